package backend_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

func TestShareNumberNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{{"0", 0, true}, {"255", 255, true}, {"256", 0, false}, {"01", 0, false}, {"-1", 0, false}, {"", 0, false}, {"a", 0, false}, {"1000", 0, false}} {
		n, ok := backend.ParseShareNumber(tc.name)
		if ok != tc.ok || n != tc.n {
			t.Errorf("ParseShareNumber(%q) = %d, %v; want %d, %v", tc.name, n, ok, tc.n, tc.ok)
		}
	}
}

func TestBucketLayout(t *testing.T) {
	si := storage.StorageIndex{1, 2, 3}
	s := si.String()
	if got := backend.BucketPath(si); got != s[:2]+"/"+s {
		t.Errorf("BucketPath = %s", got)
	}
	for _, tc := range []struct {
		prefix, name string
		ok           bool
	}{
		{s[:2], s, true},
		{"zz", s, s[:2] == "zz"},
		{s[:1], s, false},
		{s[:2], s[:10], false},
		{s[:2], "", false},
		{"", "", false},
	} {
		got, ok := backend.ParseBucket(tc.prefix, tc.name)
		if ok != tc.ok || (ok && got != si) {
			t.Errorf("ParseBucket(%q, %q) = %v, %v", tc.prefix, tc.name, got, ok)
		}
	}
}

func TestChecks(t *testing.T) {
	ctx := context.Background()
	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		err  error
		want string // "" for no error
	}{
		{"share ok", backend.CheckShare(ctx, 255), ""},
		{"share range", backend.CheckShare(ctx, 256), "share number 256 out of range"},
		{"share negative", backend.CheckShare(ctx, -1), "share number -1 out of range"},
		{"share ctx", backend.CheckShare(done, 0), context.Canceled.Error()},
		{"aux ok", backend.CheckAuxKey(ctx, "leases/x"), ""},
		{"aux bad", backend.CheckAuxKey(ctx, "shares/x"), `auxiliary object key "shares/x" is not valid`},
		{"aux ctx", backend.CheckAuxKey(done, "x"), context.Canceled.Error()},
		{"write ok", backend.CheckWriteAt(false, 0), ""},
		{"write done", backend.CheckWriteAt(true, 0), "write after commit or close: " + backend.ErrClosed.Error()},
		{"write negative", backend.CheckWriteAt(false, -1), "negative offset -1"},
	} {
		got := ""
		if tc.err != nil {
			got = tc.err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if err := backend.CheckWriteAt(true, 0); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("CheckWriteAt: %v is not ErrClosed", err)
	}
}

func TestLocks(t *testing.T) {
	var l backend.Locks
	ctx := context.Background()
	a, b := storage.StorageIndex{1}, storage.StorageIndex{2}
	unlockA, err := l.Lock(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := l.Lock(ctx, b) // another index is not held up
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, a); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "lock ") {
		t.Fatalf("held lock: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := l.Lock(ctx, a)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlockA()
	unlockA() // a second call does nothing
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	u, err := l.Lock(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	u()
}
