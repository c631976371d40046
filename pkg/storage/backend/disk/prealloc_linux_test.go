package disk_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
)

// A large container's space is reserved when it is created (its size
// stays what has been written); a small one is left to its writes. Where
// the file system cannot preallocate, the test has nothing to see.
func TestPreallocate(t *testing.T) {
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	f, err := os.Create(probe)
	if err != nil {
		t.Fatal(err)
	}
	perr := syscall.Fallocate(int(f.Fd()), 1 /* FALLOC_FL_KEEP_SIZE */, 0, 1<<20)
	f.Close()
	if perr != nil {
		t.Skipf("this file system does not preallocate: %v", perr)
	}
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		hint     int64
		reserved bool
	}{{8 << 20, true}, {64 << 10, false}, {-1, false}} {
		w, err := b.Create(ctx, backendtest.SI(byte(tc.hint)), 1, tc.hint)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteAt([]byte("abc"), 0); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, "shares", "incoming", backendtest.SI(byte(tc.hint)).String()+".1"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Size != 3 {
			t.Errorf("hint %d: size %d, want 3 (what was written)", tc.hint, st.Size)
		}
		got := st.Blocks * 512
		if tc.reserved && got < tc.hint {
			t.Errorf("hint %d: %d bytes allocated, want the hint reserved", tc.hint, got)
		}
		if !tc.reserved && got >= 1<<20 {
			t.Errorf("hint %d: %d bytes allocated, want only what was written", tc.hint, got)
		}
		w.Close()
	}
}
