package mem_test

import (
	"context"
	"testing"

	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return mem.New(mem.Options{}) })
}

func TestConformanceWithCapacity(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return mem.New(mem.Options{Capacity: 1 << 20}) })
}

// TestSparse: a write far past the end occupies one page, the hole reads
// as zeros, and FreeSpace counts pages.
func TestSparse(t *testing.T) {
	ctx := context.Background()
	b := mem.New(mem.Options{Capacity: 1 << 30})
	free0, _ := b.FreeSpace(ctx)
	w, err := b.Create(ctx, backendtest.SI(1), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const far = 1 << 40
	w.WriteAt([]byte("x"), far)
	if w.Size() != far+1 {
		t.Fatalf("Size = %d", w.Size())
	}
	p := make([]byte, 3)
	if n, err := w.ReadAt(p, far-2); n != 3 || err != nil || string(p) != "\x00\x00x" {
		t.Fatalf("ReadAt = %d %v %q", n, err, p)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	free1, _ := b.FreeSpace(ctx)
	if used := free0 - free1; used <= 0 || used > 64<<10 {
		t.Fatalf("a sparse 1 TiB container uses %d bytes", used)
	}
}
