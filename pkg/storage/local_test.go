package storage

import (
	"context"
	"errors"
	"fmt"
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
