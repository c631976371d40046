package localgridtest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

// A file uploaded to the grid lands as one share per server, and reads
// back after shares are removed down to k.
func TestGrid(t *testing.T) {
	ctx := context.Background()
	g := localgridtest.New(t, localgridtest.Options{Servers: 4,
		Encoding:    nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
		Convergence: []byte("c"), LeaseSecret: []byte("l")})
	data := bytes.Repeat([]byte("x"), 10000)
	r, err := g.Store.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := g.ShareFiles(t, r.Cap, "*"); len(m) != 4 {
		t.Fatalf("share files: %v", m)
	}
	if m := g.ShareFiles(t, r.Cap, "0"); len(m) != 1 {
		t.Fatalf("share 0: %v", m)
	}
	g.RemoveShares(t, r.Cap, 2)
	if m := g.ShareFiles(t, r.Cap, "*"); len(m) != 2 {
		t.Fatalf("after removing 2: %v", m)
	}
	var out bytes.Buffer
	if err := g.Store.Download(ctx, r.Cap, &out, filestore.DownloadOptions{}); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download with k shares: %v (%d bytes)", err, out.Len())
	}
}

// With Memory the grid keeps no share files, and the store still works.
func TestGridMemory(t *testing.T) {
	ctx := context.Background()
	g := localgridtest.New(t, localgridtest.Options{Servers: 3, Memory: true,
		Encoding:    nodedir.Encoding{Needed: 1, Happy: 1, Total: 3, MaxSegmentSize: 128 << 10},
		Convergence: []byte("c"), LeaseSecret: []byte("l")})
	data := bytes.Repeat([]byte("m"), 5000)
	r, err := g.Store.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := g.ShareFiles(t, r.Cap, "*"); len(m) != 0 {
		t.Fatalf("share files of an in-memory grid: %v", m)
	}
	var out bytes.Buffer
	if err := g.Store.Download(ctx, r.Cap, &out, filestore.DownloadOptions{}); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v (%d bytes)", err, out.Len())
	}
}
