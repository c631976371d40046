package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// tahoeNode returns the web API of a real Tahoe-LAFS node named by
// LAFS_TAHOE_NODE_URL, and its node directory from LAFS_TAHOE_NODE_DIR
// (optional); the test is skipped when there is none (CI has no Tahoe).
func tahoeNode(t *testing.T) *gateway.Store {
	t.Helper()
	u := os.Getenv("LAFS_TAHOE_NODE_URL")
	if u == "" {
		t.Skip("LAFS_TAHOE_NODE_URL is not set: no real Tahoe-LAFS node to test against")
	}
	s := gateway.New(u, gateway.Options{NodeDir: os.Getenv("LAFS_TAHOE_NODE_DIR"), Timeout: time.Minute})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTahoeConformance holds the gateway to the filestore contract over a
// real Tahoe-LAFS node: every Store method, and the Reporter.
func TestTahoeConformance(t *testing.T) {
	filestoretest.StoreConformance(t, tahoeNode(t))
}

// TestTahoeExtras covers what the gateway adds beyond the Store
// interface, against a real node.
func TestTahoeExtras(t *testing.T) {
	s := tahoeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lit := caps.NewLIT([]byte("hello"))
	if err := s.Link(ctx, root, "hi", lit, false); err != nil {
		t.Fatal(err)
	}
	n, err := s.Stat(ctx, root, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if n.Type != gateway.TypeFile || n.Size == nil || *n.Size != 5 || n.ROURI != lit.String() || n.Metadata == nil {
		t.Errorf("Stat(hi) = %+v", n)
	}
	raw, err := s.RawJSON(ctx, root, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "[") || !strings.Contains(string(raw), `"dirnode"`) {
		t.Errorf("RawJSON: %q", raw)
	}
	w, err := s.Welcome(ctx)
	if err != nil || len(w.Servers) == 0 {
		t.Fatalf("Welcome: %+v, %v", w, err)
	}
	if os.Getenv("LAFS_TAHOE_NODE_DIR") != "" {
		for _, page := range []string{"status", "statistics"} {
			b, err := s.TokenJSON(ctx, page)
			if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
				t.Errorf("TokenJSON(%s) = %.40q, %v", page, b, err)
			}
		}
	}
	// Tahoe's own error text comes through, and maps to the sentinel.
	_, err = s.Resolve(ctx, root, "nope")
	var se *gateway.StatusError
	if !errors.As(err, &se) || se.Code != 404 || !strings.Contains(se.Message, "No such child: nope") || !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("Resolve(nope): %#v", err)
	}
	if strings.Contains(err.Error(), root.String()) {
		t.Errorf("the error quotes the cap: %v", err)
	}
}

// TestTahoePaths covers the path-based calls against a real node.
func TestTahoePaths(t *testing.T) {
	s := tahoeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("path put "), 1000)
	f, created, err := s.PutFile(ctx, root, "a/b/f.txt", bytes.NewReader(data), int64(len(data)), gateway.PutOptions{})
	if err != nil || !created || f.Kind != caps.KindCHK {
		t.Fatalf("PutFile into missing directories: %v %v %v", f, created, err)
	}
	if got, err := s.Resolve(ctx, root, "a/b/f.txt"); err != nil || got.String() != f.String() {
		t.Fatalf("Resolve: %v %v", got, err)
	}
	if _, created, err := s.PutFile(ctx, root, "a/b/f.txt", bytes.NewReader(data), int64(len(data)), gateway.PutOptions{}); err != nil || created {
		t.Errorf("PutFile over an existing name: created %v, %v", created, err)
	}
	m, created, err := s.PutFile(ctx, root, "m", bytes.NewReader([]byte("v1")), 2, gateway.PutOptions{Format: filestore.FormatMDMF})
	if err != nil || !created || m.Kind != caps.KindMDMF {
		t.Fatalf("PutFile of a new MDMF file: %v %v %v", m, created, err)
	}
	m2, created, err := s.PutFile(ctx, root, "m", bytes.NewReader([]byte("version two")), 11, gateway.PutOptions{})
	if err != nil || created || m2.String() != m.String() {
		t.Fatalf("PutFile over a mutable file: %v %v %v; want it overwritten in place", m2, created, err)
	}
	var buf bytes.Buffer
	if err := s.Download(ctx, m, &buf, filestore.DownloadOptions{}); err != nil || buf.String() != "version two" {
		t.Fatalf("after the overwrite: %q %v", buf.String(), err)
	}

	d, err := s.MkdirPath(ctx, root, "x/y/z", filestore.FormatMDMF)
	if err != nil || d.Kind != caps.KindDIR2MDMF {
		t.Fatalf("MkdirPath: %v %v", d, err)
	}
	if again, err := s.MkdirPath(ctx, root, "x/y/z", filestore.FormatDefault); err != nil || again.String() != d.String() {
		t.Errorf("MkdirPath of an existing directory: %v %v; want the same cap", again, err)
	}
	if _, err := s.MkdirPath(ctx, root, "a/b/f.txt/sub", filestore.FormatDefault); !errors.Is(err, filestore.ErrNotDirectory) {
		t.Errorf("MkdirPath through a file: %v, want ErrNotDirectory", err)
	}

	other := caps.NewLIT([]byte("other"))
	if err := s.LinkPath(ctx, root, "x/y/z", other, gateway.ReplaceOnlyFiles); !errors.Is(err, filestore.ErrExists) {
		t.Errorf("LinkPath over a directory with only-files: %v, want ErrExists", err)
	}
	if err := s.LinkPath(ctx, root, "a/b/f.txt", other, gateway.ReplaceOnlyFiles); err != nil {
		t.Errorf("LinkPath over a file with only-files: %v", err)
	}
	if err := s.LinkPath(ctx, root, "a/b/f.txt", f, gateway.ReplaceNever); !errors.Is(err, filestore.ErrExists) {
		t.Errorf("LinkPath with replace=false: %v, want ErrExists", err)
	}
	if err := s.LinkPath(ctx, root, "new/deep/name", f, gateway.ReplaceNever); err != nil {
		t.Fatalf("LinkPath into missing directories: %v", err)
	}
	if got, err := s.Resolve(ctx, root, "new/deep/name"); err != nil || got.String() != f.String() {
		t.Errorf("Resolve(new/deep/name): %v %v", got, err)
	}
}
