package s3direct

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	n := &nodedir.Node{Dir: dir}
	e := nodedir.Server{ID: "x", S3: &nodedir.S3Direct{URL: "http://127.0.0.1:1", Bucket: "b", Prefix: "p", AccessKeyID: "K"}}
	if _, err := Config(n, e); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("no secret file: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	os.WriteFile(filepath.Join(dir, "private", "s3secret"), []byte("S\n"), 0o600)
	cfg, err := Config(n, e)
	if err != nil || cfg.SecretAccessKey != "S" || cfg.Bucket != "b" || cfg.Prefix != "p" {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
	bad := e
	bad.S3 = &nodedir.S3Direct{URL: "http://127.0.0.1:1", Bucket: "b", Prefix: "shares", AccessKeyID: "K"}
	if _, err := Config(n, bad); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("a bad prefix: %v", err)
	}
	if _, err := Config(n, nodedir.Server{ID: "y"}); err == nil {
		t.Error("an entry without lafs-s3 was accepted")
	}
}

// TestOpen: a direct server writes its shares where a storage node on the
// same bucket and prefix keeps them.
func TestOpen(t *testing.T) {
	srv := s3test.Start(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	os.WriteFile(filepath.Join(dir, "private", "s3secret"), []byte(srv.SecretAccessKey), 0o600)
	bucket := s3test.BucketName()
	cfg := s3.Config{URL: srv.URL, Region: srv.Region, Bucket: bucket, AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
	ctx := context.Background()
	if err := s3.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	e := nodedir.Server{ID: "direct", LeaseSeed: make([]byte, 20),
		S3: &nodedir.S3Direct{URL: srv.URL, Region: srv.Region, Bucket: bucket, Prefix: "storage-00", AccessKeyID: srv.AccessKeyID}}
	st, err := Open(&nodedir.Node{Dir: dir}, e)
	if err != nil {
		t.Fatal(err)
	}
	var si storage.StorageIndex
	copy(si[:], "direct-to-s3....")
	lease := storage.LeaseSecrets{Renew: [32]byte{1}}
	if _, err := st.AllocateBuckets(ctx, si, lease, []byte("u"), []int{3}, 5); err != nil {
		t.Fatal(err)
	}
	if wr, err := st.WriteShareChunk(ctx, si, 3, []byte("u"), 0, []byte("hello")); err != nil || !wr.Complete {
		t.Fatalf("write: %+v, %v", wr, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Prefix = "storage-00"
	b, err := s3.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := b.List(ctx, si); err != nil || len(got) != 1 || got[0] != 3 {
		t.Errorf("the node's view of the bucket: %v, %v", got, err)
	}
	if keys, _ := b.ListAux(ctx, "leases/"); len(keys) != 0 {
		t.Errorf("direct mode wrote lease records: %v", keys)
	}
}
