package lafs

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

func TestOpenGateway(t *testing.T) {
	t.Run("node.url, read on first use", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "node.url", "http://127.0.0.1:1/\n")
		node, err := nodedir.Open(dir)
		must(t, err)
		s, mode, err := Open(node, Options{})
		if err != nil || mode != ModeGateway {
			t.Fatalf("Open: %v %v", mode, err)
		}
		defer s.Close()
		gw, ok := s.(*gateway.Store)
		if !ok {
			t.Fatalf("Open returned a %T, want a *gateway.Store", s)
		}
		// Opening read nothing yet: the address in force is the one
		// node.url holds at the first request.
		write(t, dir, "node.url", "http://127.0.0.1:2/\n")
		if u, err := gw.NodeURL(); err != nil || u != "http://127.0.0.1:2/" {
			t.Fatalf("NodeURL = %q, %v; want the file's content at first use", u, err)
		}
	})
	t.Run("--node-url wins over the local grid", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "node.url", "http://127.0.0.1:1/\n")
		node, err := nodedir.Open(dir)
		must(t, err)
		s, mode, err := Open(node, Options{NodeURL: "http://127.0.0.1:3/base"})
		if err != nil || mode != ModeGateway {
			t.Fatalf("Open: %v %v", mode, err)
		}
		defer s.Close()
		if u, err := s.(*gateway.Store).NodeURL(); err != nil || u != "http://127.0.0.1:3/base/" {
			t.Fatalf("NodeURL = %q, %v", u, err)
		}
	})
	t.Run("a bad node.url is an error at first use, not a panic", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "node.url", "ftp://example/\n")
		node, err := nodedir.Open(dir)
		must(t, err)
		s, _, err := Open(node, Options{})
		must(t, err)
		defer s.Close()
		if _, err := s.Mkdir(context.Background(), filestore.MkdirOptions{}); err == nil {
			t.Fatal("mkdir through an ftp:// node URL succeeded")
		}
	})
}

// TestOpenGatewayTahoe opens a real Tahoe-LAFS client node directory
// (LAFS_TAHOE_NODE_DIR) in gateway mode, forced with its own node.url as
// --node-url would (such a directory usually has a servers.yaml too, which
// selects direct mode), and round-trips a file through it; skipped when
// there is none.
func TestOpenGatewayTahoe(t *testing.T) {
	dir := os.Getenv("LAFS_TAHOE_NODE_DIR")
	if dir == "" {
		t.Skip("LAFS_TAHOE_NODE_DIR is not set: no real Tahoe-LAFS node directory")
	}
	node, err := nodedir.Open(dir)
	must(t, err)
	u, err := node.NodeURL()
	must(t, err)
	s, mode, err := Open(node, Options{NodeURL: u})
	if err != nil || mode != ModeGateway {
		t.Fatalf("Open: %v %v", mode, err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := bytes.Repeat([]byte("gateway "), 5000)
	res, err := s.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
	must(t, err)
	var out bytes.Buffer
	if err := s.Download(ctx, res.Cap, &out, filestore.DownloadOptions{}); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v", err)
	}
	gs, err := s.(filestore.Reporter).GridStatus(ctx, 10*time.Second)
	if err != nil || gs.Kind != "gateway" || len(gs.Servers) == 0 {
		t.Fatalf("grid status: %+v %v", gs, err)
	}
}

// BenchmarkOpenGateway is what a command pays to open a gateway store
// before its first request: no I/O beyond the node directory's stat calls.
func BenchmarkOpenGateway(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(dir+"/node.url", []byte("http://127.0.0.1:1/\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	node, err := nodedir.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, _, err := Open(node, Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}
