package lafs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(dir string)
		nodeURL string
		want    Mode
		err     error
	}{
		{name: "nothing", setup: func(string) {}, err: ErrNoGrid},
		{name: "local grid", setup: func(d string) { must(t, localgrid.Create(d, 3)) }, want: ModeLocal},
		{name: "node.url only", setup: func(d string) { write(t, d, "node.url", "http://127.0.0.1:3456/\n") }, want: ModeGateway},
		{name: "servers.yaml wins over node.url", setup: func(d string) {
			write(t, d, "node.url", "http://127.0.0.1:3456/\n")
			write(t, d, "private/servers.yaml", "storage: {}\n")
		}, want: ModeNetwork},
		{name: "local grid wins over node.url", setup: func(d string) {
			write(t, d, "node.url", "http://127.0.0.1:3456/\n")
			must(t, localgrid.Create(d, 3))
		}, want: ModeLocal},
		{name: "--node-url wins", setup: func(d string) { must(t, localgrid.Create(d, 3)) }, nodeURL: "http://127.0.0.1:1/", want: ModeGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			node, err := nodedir.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Detect(node, Options{NodeURL: tc.nodeURL})
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Detect = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestOpenLocalGrid(t *testing.T) {
	dir := t.TempDir()
	must(t, localgrid.Create(dir, 10))
	node, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, mode, err := Open(node, Options{})
	if err != nil || mode != ModeLocal {
		t.Fatalf("Open: %v %v", mode, err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("lafs "), 1000)
	res, err := s.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Download(context.Background(), res.Cap, &out, filestore.DownloadOptions{}); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v", err)
	}
	gs, err := s.(filestore.Reporter).GridStatus(context.Background(), 5e9)
	if err != nil || gs.Kind != "local" || len(gs.Servers) != 10 || !gs.Servers[0].Reachable {
		t.Fatalf("grid status: %+v %v", gs, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.MkdirAll(filepath.Dir(p), 0o700))
	must(t, os.WriteFile(p, []byte(data), 0o600))
}
