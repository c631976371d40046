package bench

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/lafs/lafs/pkg/filestore"
)

// TestGrids checks the benchmarks' grids: each stores a file and gives it
// back, with all ten shares placed.
func TestGrids(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(300_000, 9)
	for _, g := range grids(t) {
		t.Run(g.name, func(t *testing.T) {
			res, err := g.store.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if p := res.Placement; p == nil || p.Uploaded != total || p.Happiness < happy {
				t.Fatalf("placement %+v", p)
			}
			var got bytes.Buffer
			if err := g.store.Download(ctx, res.Cap, &got, filestore.DownloadOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("download: %v (equal %v)", err, bytes.Equal(got.Bytes(), data))
			}
		})
	}
}

// TestStamped: the stamp replaces exactly the first 8 bytes, whatever
// the reads' offsets and lengths.
func TestStamped(t *testing.T) {
	data := randomBytes(100, 1)
	want := append([]byte{}, data...)
	copy(want, []byte{0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01})
	s := stamped{data, 0x0102030405060708}
	for _, tc := range []struct {
		name     string
		off, len int
	}{
		{"whole", 0, 100},
		{"inside the stamp", 3, 2},
		{"across the stamp's end", 5, 10},
		{"after the stamp", 8, 20},
		{"past the end", 90, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.len)
			n, err := s.ReadAt(p, int64(tc.off))
			end := min(tc.off+tc.len, 100)
			if n != end-tc.off || !bytes.Equal(p[:n], want[tc.off:end]) {
				t.Fatalf("ReadAt(%d, %d) = %d %x, want %x", tc.off, tc.len, n, p[:n], want[tc.off:end])
			}
			if (end < tc.off+tc.len) != (err == io.EOF) {
				t.Fatalf("err %v at a short read %v", err, end < tc.off+tc.len)
			}
		})
	}
	if !bytes.Equal(data[:8], randomBytes(8, 1)) {
		t.Fatal("the stamp changed the data")
	}
}
