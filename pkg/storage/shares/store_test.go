package shares

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

func TestAbortIdleUploads(t *testing.T) { forEachBackend(t, testAbortIdleUploads) }

func testAbortIdleUploads(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := newStore(t, open, Options{Now: func() time.Time { return now }})
	var si storage.StorageIndex
	if _, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0, 1}, 10); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Minute)
	if _, err := l.WriteShareChunk(ctx, si, 1, []byte("u"), 0, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(15 * time.Minute)
	if n := l.AbortIdleUploads(30 * time.Minute); n != 1 {
		t.Fatalf("aborted %d idle uploads, want 1", n)
	}
	if _, err := l.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("abc")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("write to aborted upload: %v", err)
	}
	if _, err := l.WriteShareChunk(ctx, si, 1, []byte("u"), 3, []byte("defghij")); err != nil {
		t.Fatalf("active upload was aborted: %v", err)
	}
}

func TestRangeSet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		adds    [][2]int64
		size    int64
		covered int64
		missing string
	}{
		{"empty", nil, 10, 0, "[{0 10}]"},
		{"disjoint", [][2]int64{{0, 2}, {5, 7}}, 10, 4, "[{2 5} {7 10}]"},
		{"adjacent merge", [][2]int64{{0, 2}, {2, 4}}, 4, 4, "[]"},
		{"overlap merge", [][2]int64{{3, 6}, {0, 4}, {5, 9}}, 10, 9, "[{9 10}]"},
		{"swallow", [][2]int64{{2, 3}, {4, 5}, {0, 10}}, 10, 10, "[]"},
		{"empty add", [][2]int64{{3, 3}}, 5, 0, "[{0 5}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r rangeSet
			for _, a := range tc.adds {
				r.add(a[0], a[1])
			}
			if r.covered() != tc.covered || fmt.Sprint(r.missing(tc.size)) != tc.missing {
				t.Fatalf("covered %d missing %v", r.covered(), r.missing(tc.size))
			}
		})
	}
	var r rangeSet
	r.add(0, 4)
	r.add(8, 12)
	if got := fmt.Sprint(r.overlaps(2, 10)); got != "[{2 4} {8 10}]" {
		t.Fatalf("overlaps %s", got)
	}
}

// TestSharedStore opens one store directory twice, as two CLI processes
// sharing an embedded grid would: the second must not clean the first's
// uploads, and mutable test-and-set must be atomic across both.
func TestSharedStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	la, err := OpenDisk(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var si storage.StorageIndex
	if _, err := la.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 4); err != nil {
		t.Fatal(err)
	}
	lb, err := OpenDisk(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := lb.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("v"), []int{0}, 4); err != nil || len(res.Allocated) != 0 {
		t.Fatalf("second process allocated a share in progress: %+v %v", res, err)
	}
	if wr, err := la.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("data")); err != nil || !wr.Complete {
		t.Fatalf("upload disturbed by a second opener: %+v %v", wr, err)
	}

	// Concurrent counters through both: every successful test-and-set
	// must be counted exactly once.
	var msi storage.StorageIndex
	msi[0] = 1
	sec := storage.MutableSecrets{WriteEnabler: [32]byte{5}}
	one := uint64(8)
	if _, err := la.ReadTestWrite(ctx, msi, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 0, Data: make([]byte, 8)}}, NewLength: &one}}}); err != nil {
		t.Fatal(err)
	}
	incr := func(l *Store) (bool, error) {
		res, err := l.ReadTestWrite(ctx, msi, sec, storage.ReadTestWriteRequest{ReadVector: []storage.ReadVector{{Offset: 0, Size: 8}}})
		if err != nil {
			return false, err
		}
		cur := res.Data[0][0]
		next := make([]byte, 8)
		copy(next, cur)
		next[7]++
		res, err = l.ReadTestWrite(ctx, msi, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {
			Test: []storage.TestVector{{Offset: 0, Size: 8, Specimen: cur}}, Write: []storage.WriteVector{{Offset: 0, Data: next}},
		}}})
		return err == nil && res.Success, err
	}
	errs := make(chan error, 2)
	wins := make(chan int, 2)
	for _, l := range []*Store{la, lb} {
		go func() {
			n := 0
			for i := 0; i < 40; i++ {
				ok, err := incr(l)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					n++
				}
			}
			wins <- n
			errs <- nil
		}()
	}
	total := 0
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		total += <-wins
	}
	got, err := la.ReadMutableShareChunk(ctx, msi, 0, 7, 1)
	if err != nil || int(got[0]) != total {
		t.Fatalf("counter %v after %d successful increments (%v)", got, total, err)
	}
	// An upload left behind by a process that went away without closing.
	lc, err := OpenDisk(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("w"), []int{5}, 4); err != nil {
		t.Fatal(err)
	}
	lc.Backend().Close()
	la.Close()
	lb.Close()

	// With nobody else holding it, a new opener cleans incoming/.
	c, err := OpenDisk(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ents, _ := os.ReadDir(filepath.Join(dir, "shares", "incoming")); len(ents) != 0 {
		t.Fatalf("incoming not cleaned: %v", ents)
	}
}

// TestMutableWriteLimits: a write far past the end must not zero-fill
// petabytes, and growth beyond the free space is refused.
func TestMutableWriteLimits(t *testing.T) { forEachBackend(t, testMutableWriteLimits) }

func testMutableWriteLimits(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	l := newStore(t, open, Options{})
	var si storage.StorageIndex
	sec := storage.MutableSecrets{WriteEnabler: [32]byte{1}}
	for _, off := range []uint64{1 << 50, maxMutableShareSize + 1, 1<<64 - 2} {
		_, err := l.ReadTestWrite(ctx, si, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: off, Data: []byte("xy")}}}}})
		if !errors.Is(err, storage.ErrTooLarge) {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	if s, _ := l.ListMutableShares(ctx, si); len(s) != 0 {
		t.Fatalf("refused write left a share: %v", s)
	}
	// A modest hole is zero-filled.
	if _, err := l.ReadTestWrite(ctx, si, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 200 << 10, Data: []byte("end")}}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadMutableShareChunk(ctx, si, 0, 0, 1<<30)
	if err != nil || len(got) != 200<<10+3 || got[1000] != 0 || string(got[200<<10:]) != "end" {
		t.Fatalf("zero-filled share: %d bytes, %v", len(got), err)
	}
}

// TestVectorDiskLayout: Tahoe's share files, copied to the very paths
// Tahoe's storage server kept them at, are served by OpenDisk; shares
// written through OpenDisk land at those paths, byte-identical (lease
// secrets aside, which Tahoe stored hashed).
func TestVectorDiskLayout(t *testing.T) {
	ctx := context.Background()
	for name, e := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			s := e.Shares[0]
			orig := readVectorFile(t, s)
			p := parseShareBytes(t, orig)
			si, _ := storage.ParseStorageIndex(e.StorageIndex)
			rel := filepath.FromSlash(s.OnDisk[len("storage/"):])
			src := t.TempDir()
			os.MkdirAll(filepath.Dir(filepath.Join(src, rel)), 0o755)
			if err := os.WriteFile(filepath.Join(src, rel), orig, 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := OpenDisk(src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			read := l.ReadShareChunk
			if p.kind == KindMutable {
				read = l.ReadMutableShareChunk
			}
			if data, err := read(ctx, si, s.Shnum, 0, 1<<30); err != nil || !bytes.Equal(data, p.data) {
				t.Fatalf("served data differs (%v)", err)
			}
			dst := t.TempDir()
			now := time.Unix(int64(p.leases[0].Expiration)-leaseRenewalSeconds, 0)
			w, err := OpenDisk(dst, Options{NodeID: p.nodeID, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			lease := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
			if p.kind == KindImmutable {
				if _, err := w.AllocateBuckets(ctx, si, lease, []byte("u"), []int{s.Shnum}, uint64(len(p.data))); err != nil {
					t.Fatal(err)
				}
				if _, err := w.WriteShareChunk(ctx, si, s.Shnum, []byte("u"), 0, p.data); err != nil {
					t.Fatal(err)
				}
			} else {
				nl := uint64(len(p.data))
				if _, err := w.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: p.we, Lease: lease}, storage.ReadTestWriteRequest{
					TestWriteVectors: map[uint64]storage.TestWriteVectors{uint64(s.Shnum): {Write: []storage.WriteVector{{Offset: 0, Data: p.data}}, NewLength: &nl}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			written, err := os.ReadFile(filepath.Join(dst, rel))
			if err != nil {
				t.Fatalf("share not at Tahoe's path: %v", err)
			}
			q := parseShareBytes(t, written)
			if !bytes.Equal(q.data, p.data) || len(written) != len(orig) {
				t.Fatalf("written container differs from Tahoe's in shape")
			}
		})
	}
}

// TestReservedSpace: allocations that would eat into reserved space are
// refused, and version reports the space left.
func TestReservedSpace(t *testing.T) { forEachBackend(t, testReservedSpace) }

func testReservedSpace(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	store := open(t)
	free, err := store.FreeSpace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := New(store, Options{ReservedSpace: free - (10 << 20)})
	v, _ := l.Version(ctx)
	if v.AvailableSpace > 11<<20 {
		t.Fatalf("available %d with all but 10 MiB reserved", v.AvailableSpace)
	}
	var si storage.StorageIndex
	res, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0, 1, 2}, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Allocated) > 2 {
		t.Fatalf("allocated %v beyond the reservation", res.Allocated)
	}
	all := New(store, Options{ReservedSpace: free * 2})
	si[0] = 1
	if res, _ := all.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 1); len(res.Allocated) != 0 {
		t.Fatalf("allocated with everything reserved")
	}
	ro := New(store, Options{ReadOnly: true})
	si[0] = 2
	if res, _ := ro.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 1); len(res.Allocated) != 0 {
		t.Fatalf("read-only server allocated")
	}
}

// TestMaxMutableShareSize: a configured bound on mutable shares refuses
// writes ending past it (and is what the version message reports), while
// writes within it succeed.
func TestMaxMutableShareSize(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) backend.Backend) {
		ctx := context.Background()
		const limit = 1 << 20
		s := newStore(t, open, Options{MaxMutableShareSize: limit})
		if v, _ := s.Version(ctx); v.MaximumMutableShareSize != limit {
			t.Fatalf("version reports %d", v.MaximumMutableShareSize)
		}
		var si storage.StorageIndex
		for _, tc := range []struct {
			name    string
			off     uint64
			n       int
			wantErr error
		}{
			{"ending at the bound", limit - 4, 4, nil},
			{"ending one past the bound", limit - 3, 4, storage.ErrTooLarge},
			{"starting far past the bound", 1 << 40, 1, storage.ErrTooLarge},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.ReadTestWrite(ctx, si, storage.MutableSecrets{}, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
					0: {Write: []storage.WriteVector{{Offset: tc.off, Data: make([]byte, tc.n)}}},
				}})
				if !errors.Is(err, tc.wantErr) && !(err == nil && tc.wantErr == nil) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
			})
		}
	})
}

// TestSparseMutableExtension: a 4-byte read-test-write 8 GiB past the end
// of a mutable share extends it sparsely: it is quick, takes next to no
// space, and the hole reads as zeros.
func TestSparseMutableExtension(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) backend.Backend) {
		ctx := context.Background()
		b := open(t)
		s := New(b, Options{})
		defer s.Close()
		const far = 8 << 30
		if v, _ := s.Version(ctx); v.AvailableSpace < far+(1<<20) {
			t.Skipf("only %d bytes free", v.AvailableSpace)
		}
		free0, _ := b.FreeSpace(ctx)
		var si storage.StorageIndex
		start := time.Now()
		if _, err := s.ReadTestWrite(ctx, si, storage.MutableSecrets{}, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
			0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("head")}, {Offset: far, Data: []byte("tail")}}},
		}}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
		// Other writers share the disk: allow them some slack.
		if free1, _ := b.FreeSpace(ctx); free0-free1 > 64<<20 {
			t.Errorf("free space fell by %d bytes", free0-free1)
		}
		got, err := s.ReadMutableShareChunk(ctx, si, 0, far-4, 100)
		if err != nil || string(got) != "\x00\x00\x00\x00tail" {
			t.Fatalf("read at the far end = %q, %v", got, err)
		}
		got, err = s.ReadMutableShareChunk(ctx, si, 0, 0, 8)
		if err != nil || string(got) != "head\x00\x00\x00\x00" {
			t.Fatalf("read of the head = %q, %v", got, err)
		}
	})
}

// TestMaxUploads: uploads in progress are bounded; finishing or aborting
// one makes room for another.
func TestMaxUploads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) backend.Backend) {
		ctx := context.Background()
		s := newStore(t, open, Options{MaxUploads: 3})
		var si storage.StorageIndex
		res, err := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0, 1, 2, 3, 4}, 1)
		if err != nil || fmt.Sprint(res.Allocated) != "[0 1 2]" {
			t.Fatalf("allocated %v, %v; want [0 1 2]", res.Allocated, err)
		}
		si[0] = 1
		if res, _ := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 1); len(res.Allocated) != 0 {
			t.Fatalf("allocated %v past the bound", res.Allocated)
		}
		si[0] = 0
		if _, err := s.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := s.AbortUpload(ctx, si, 1, []byte("u")); err != nil {
			t.Fatal(err)
		}
		si[0] = 1
		if res, _ := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0, 1, 2}, 1); fmt.Sprint(res.Allocated) != "[0 1]" {
			t.Fatalf("allocated %v after two uploads ended, want [0 1]", res.Allocated)
		}
	})
}
