package gbs

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbsserver/gbstest"
)

// gatedServer is a real GBS server holding every PATCH in its handler
// until gate is closed, and counting them.
func gatedServer(t *testing.T, gate <-chan struct{}, patches *atomic.Int32) (string, *gbstest.Listener) {
	t.Helper()
	return hookedServer(t, func(r *http.Request) {
		if r.Method == http.MethodPatch {
			patches.Add(1)
			<-gate
		}
	})
}

// hookedServer is a real GBS server calling hook with every request.
func hookedServer(t *testing.T, hook func(*http.Request)) (string, *gbstest.Listener) {
	t.Helper()
	s := gbstest.Start(t, hook)
	return s.NURL.String(), s.Conns
}

// TestQuestionsPassBulkTransfers: with every connection the bound allows
// but one busy with share writes the server is slow to take, a question
// still gets an answer at once, further writes wait their turn rather
// than opening connections, and every write completes once the server
// takes them.
func TestQuestionsPassBulkTransfers(t *testing.T) {
	gate := make(chan struct{})
	var patches atomic.Int32
	nurl, ln := gatedServer(t, gate, &patches)
	c, err := New(nurl, Options{MaxConnsPerHost: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	si := testSI("conns")
	const shares, size = 6, 256 << 10
	nums := make([]int, shares)
	for i := range nums {
		nums[i] = i
	}
	if _, err := c.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("up"), nums, size); err != nil {
		t.Fatal(err)
	}
	data := randBytes(size)
	var wg sync.WaitGroup
	errs := make([]error, shares)
	for i := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.WriteShareChunk(ctx, si, i, []byte("up"), 0, data)
		}()
	}
	// Wait for the writes the bound lets through (all but one
	// connection) to reach the server.
	for deadline := time.Now().Add(10 * time.Second); patches.Load() < 2; {
		if time.Now().After(deadline) {
			close(gate)
			t.Fatalf("%d writes reached the server, want 2", patches.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, verr := c.Version(qctx)
	_, lerr := c.ListShares(qctx, si)
	cancel()
	time.Sleep(50 * time.Millisecond) // would a third write get through?
	inHandler := patches.Load()
	close(gate)
	wg.Wait()
	if verr != nil || lerr != nil {
		t.Fatalf("a question waited behind bulk writes: version %v, list %v", verr, lerr)
	}
	if inHandler != 2 {
		t.Errorf("%d writes in flight at once, want 2 (the bound of 3 less one for questions)", inHandler)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write of share %d: %v", i, err)
		}
	}
	if n := ln.Accepted.Load(); n > 3 {
		t.Errorf("%d connections for a bound of 3", n)
	}
	got, err := c.ListShares(ctx, si)
	if err != nil || len(got) != shares {
		t.Fatalf("shares after the writes: %v %v", got, err)
	}
}

// TestTimeQueuedIsNotCounted: a write that waits for room behind another
// the server is slow to take gets its whole timeout once it goes out; a
// cancelled wait ends at once.
func TestTimeQueuedIsNotCounted(t *testing.T) {
	gate := make(chan struct{})
	var patches atomic.Int32
	nurl, _ := gatedServer(t, gate, &patches)
	c, err := New(nurl, Options{MaxConnsPerHost: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	si := testSI("queued")
	const size = 256 << 10
	if _, err := c.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("up"), []int{0, 1, 2}, size); err != nil {
		t.Fatal(err)
	}
	data := randBytes(size)
	first := make(chan error, 1)
	go func() {
		_, err := c.WriteShareChunk(ctx, si, 0, []byte("up"), 0, data)
		first <- err
	}()
	for patches.Load() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	// The one bulk slot is taken: this write waits for it.
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() {
		_, err := c.WriteShareChunk(cctx, si, 2, []byte("up"), 0, data)
		cancelled <- err
	}()
	second := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := c.WriteShareChunk(wctx, si, 1, []byte("up"), 0, data)
		second <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled while queued: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled request went on waiting for room")
	}
	time.Sleep(600 * time.Millisecond) // well past the queued write's timeout
	close(gate)
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("a write timed out while it waited for room: %v", err)
	}
}

// TestVersionRemembered: within VersionMaxAge a second Version is the
// first answer, not a question; after it, or with caching off, the server
// is asked again.
func TestVersionRemembered(t *testing.T) {
	var asked atomic.Int32
	nurl, _ := hookedServer(t, func(r *http.Request) {
		if r.URL.Path == "/storage/v1/version" {
			asked.Add(1)
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		wait   time.Duration
		want   int32
	}{
		{"remembered", time.Minute, 0, 1},
		{"expired", 50 * time.Millisecond, 100 * time.Millisecond, 2},
		{"off", -1, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked.Store(0)
			c, err := New(nurl, Options{VersionMaxAge: tc.maxAge})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			first, err := c.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.wait)
			second, err := c.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := asked.Load(); got != tc.want {
				t.Errorf("server asked %d times, want %d", got, tc.want)
			}
			// Free space moves under a real disk: equal answers down to it
			// are one answer given twice.
			if tc.want == 1 && (first.AvailableSpace != second.AvailableSpace || first.MaximumImmutableShareSize != second.MaximumImmutableShareSize) {
				t.Errorf("a remembered answer differs: %+v, %+v", first, second)
			}
		})
	}
}
