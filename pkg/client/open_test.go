package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/shares"
)

const directServersYAML = `
storage:
  bucket-a:
    lafs-s3: {url: "http://127.0.0.1:1", bucket: a, prefix: p1, access_key_id: K}
  bucket-b:
    lafs-s3: {url: "http://127.0.0.1:1", bucket: a, prefix: p2, access_key_id: K}
`

func directNode(t *testing.T) *nodedir.Node {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "private", "servers.yaml"), []byte(directServersYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpenServersDirect: entries with a lafs-s3 block are opened by the
// direct opener (here, share stores in memory), with their seeds; without
// one they are left out with a warning.
func TestOpenServersDirect(t *testing.T) {
	n := directNode(t)
	var opened []string
	servers, warnings, err := OpenServers(n, func(_ *nodedir.Node, e nodedir.Server) (storage.Server, error) {
		opened = append(opened, e.S3.Prefix)
		return shares.New(mem.New(mem.Options{}), shares.Options{}), nil
	})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("OpenServers: %v, %v", err, warnings)
	}
	defer CloseServers(servers)
	if len(servers) != 2 || strings.Join(opened, ",") != "p1,p2" {
		t.Fatalf("servers %d, opened %v", len(servers), opened)
	}
	s := servers[0]
	if s.ID != "bucket-a" || s.Addr != "s3://a/p1" || len(s.LeaseSeed) != 20 || len(s.PermutationSeed) != 32 {
		t.Errorf("server = %+v", s)
	}
	if _, err := s.Storage.Version(context.Background()); err != nil {
		t.Errorf("Version: %v", err)
	}

	if _, warnings, err := OpenServers(n, nil); err == nil || len(warnings) != 2 || !strings.Contains(warnings[0], "directly in S3") {
		t.Errorf("without a direct opener: %v, %q", err, warnings)
	}
	boom := errors.New("no such bucket")
	if _, _, err := OpenServers(n, func(*nodedir.Node, nodedir.Server) (storage.Server, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("a failing direct opener: %v", err)
	}
}
