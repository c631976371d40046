package shares

import (
	"testing"

	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
)

// testBackends are the backends the store's tests run over.
var testBackends = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"disk", func(t *testing.T) backend.Backend {
		b, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"mem", func(t *testing.T) backend.Backend {
		// A known capacity, so space accounting behaves as on a disk.
		b := mem.New(mem.Options{Capacity: 1 << 40})
		t.Cleanup(func() { b.Close() })
		return b
	}},
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func(t *testing.T) backend.Backend)) {
	for _, tb := range testBackends {
		t.Run(tb.name, func(t *testing.T) { fn(t, tb.open) })
	}
}

// newStore opens a store over a fresh backend of the given kind.
func newStore(t *testing.T, open func(t *testing.T) backend.Backend, opts Options) *Store {
	s := New(open(t), opts)
	t.Cleanup(func() { s.Close() })
	return s
}
