package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAbortIdleUploads(t *testing.T) {
	ctx := context.Background()
	store, err := OpenDiskStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	l := NewLocal(store, LocalOptions{Now: func() time.Time { return now }})
	var si StorageIndex
	if _, err := l.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0, 1}, 10); err != nil {
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
	if _, err := l.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("abc")); !errors.Is(err, ErrNotFound) {
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
	a, err := OpenDiskStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	la := NewLocal(a, LocalOptions{})
	var si StorageIndex
	if _, err := la.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, 4); err != nil {
		t.Fatal(err)
	}
	b, err := OpenDiskStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	lb := NewLocal(b, LocalOptions{})
	if res, err := lb.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("v"), []int{0}, 4); err != nil || len(res.Allocated) != 0 {
		t.Fatalf("second process allocated a share in progress: %+v %v", res, err)
	}
	if wr, err := la.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("data")); err != nil || !wr.Complete {
		t.Fatalf("upload disturbed by a second opener: %+v %v", wr, err)
	}

	// Concurrent counters through both: every successful test-and-set
	// must be counted exactly once.
	var msi StorageIndex
	msi[0] = 1
	sec := MutableSecrets{WriteEnabler: [32]byte{5}}
	one := uint64(8)
	if _, err := la.ReadTestWrite(ctx, msi, sec, ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {Write: []WriteVector{{0, make([]byte, 8)}}, NewLength: &one}}}); err != nil {
		t.Fatal(err)
	}
	incr := func(l *Local) (bool, error) {
		res, err := l.ReadTestWrite(ctx, msi, sec, ReadTestWriteRequest{ReadVector: []ReadVector{{0, 8}}})
		if err != nil {
			return false, err
		}
		cur := res.Data[0][0]
		next := make([]byte, 8)
		copy(next, cur)
		next[7]++
		res, err = l.ReadTestWrite(ctx, msi, sec, ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {
			Test: []TestVector{{0, 8, cur}}, Write: []WriteVector{{0, next}},
		}}})
		return err == nil && res.Success, err
	}
	errs := make(chan error, 2)
	wins := make(chan int, 2)
	for _, l := range []*Local{la, lb} {
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
	a.Close()
	b.Close()

	// With nobody else holding it, a new opener cleans incoming/.
	if _, err := lb.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("w"), []int{5}, 4); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDiskStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ents, _ := os.ReadDir(filepath.Join(dir, "shares", "incoming")); len(ents) != 0 {
		t.Fatalf("incoming not cleaned: %v", ents)
	}
}

func TestParseTubPort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp:3457", ":3457"},
		{"tcp:3457:interface=127.0.0.1", "127.0.0.1:3457"},
		{"tcp:port=3457:interface=127.0.0.1", "127.0.0.1:3457"},
		{"tcp:interface=127.0.0.1:port=3457", "127.0.0.1:3457"},
		{"tcp:3457,tcp:3458", ":3457"},
		{"tor:3457", ""},
		{"tcp:x", ""},
		{"tcp:3457:bogus=1", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTubPort(tc.in)
			if (err != nil) != (tc.want == "") || got != tc.want {
				t.Fatalf("parseTubPort(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

// TestMutableWriteLimits: a write far past the end must not zero-fill
// petabytes, and growth beyond the free space is refused.
func TestMutableWriteLimits(t *testing.T) {
	ctx := context.Background()
	store, err := OpenDiskStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{})
	var si StorageIndex
	sec := MutableSecrets{WriteEnabler: [32]byte{1}}
	for _, off := range []uint64{1 << 50, maxMutableShareSize + 1, 1<<64 - 2} {
		_, err := l.ReadTestWrite(ctx, si, sec, ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {Write: []WriteVector{{off, []byte("xy")}}}}})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	if s, _ := l.ListMutableShares(ctx, si); len(s) != 0 {
		t.Fatalf("refused write left a share: %v", s)
	}
	// A modest hole is zero-filled.
	if _, err := l.ReadTestWrite(ctx, si, sec, ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {Write: []WriteVector{{200 << 10, []byte("end")}}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadMutableShareChunk(ctx, si, 0, 0, 1<<30)
	if err != nil || len(got) != 200<<10+3 || got[1000] != 0 || string(got[200<<10:]) != "end" {
		t.Fatalf("zero-filled share: %d bytes, %v", len(got), err)
	}
}
