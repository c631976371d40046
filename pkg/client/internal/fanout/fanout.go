// Package fanout asks many storage servers the same question at once (Ask),
// or in order a few at a time as a caller's plan decides (Staged), each
// call under its own deadline, and joins every call before it returns. It is
// the one place pkg/client and pkg/client/mutable start per-server
// goroutines for questions (queries, lease renewals, allocations, share
// reads); it knows nothing about what is asked.
package fanout

import (
	"context"
	"sync"
	"time"
)

// Options tune Ask.
type Options struct {
	// Timeout bounds each call (0: only the caller's context bounds it).
	Timeout time.Duration
	// Grace is how long the calls still running may go on once enough has
	// said the answers so far suffice; then they are cancelled.
	Grace time.Duration
}

// Result is one call's outcome. Done is false for a call that was never
// answered because Ask stopped waiting (its Err is then the cancellation).
type Result[T any] struct {
	Value T
	Err   error
	Done  bool
}

// Ask calls ask(ctx, i) for every i in [0, n) concurrently, each with a
// context bounded by o.Timeout, and returns the results by index. When
// enough is non-nil it is called after each answer, serially, with the
// results so far (unanswered entries have Done false); once it returns
// true the calls still running get o.Grace and are then cancelled. Ask
// waits for every call to return before it returns, so ask must honour its
// context.
func Ask[T any](ctx context.Context, n int, o Options, ask func(ctx context.Context, i int) (T, error), enough func([]Result[T]) bool) []Result[T] {
	results := make([]Result[T], n)
	if n == 0 {
		return results
	}
	stop, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		timer   *time.Timer
		stopped bool
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := stop, context.CancelFunc(func() {})
			if o.Timeout > 0 {
				cctx, cancel = context.WithTimeout(stop, o.Timeout)
			}
			v, err := ask(cctx, i)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if stopped && stop.Err() != nil && err != nil {
				// Cut short by Ask itself: not an answer.
				results[i] = Result[T]{Value: v, Err: err}
				return
			}
			results[i] = Result[T]{Value: v, Err: err, Done: true}
			if enough != nil && !stopped && enough(results) {
				stopped = true
				if o.Grace <= 0 {
					cancelAll()
				} else {
					timer = time.AfterFunc(o.Grace, cancelAll)
				}
			}
		}()
	}
	wg.Wait()
	if timer != nil {
		timer.Stop()
	}
	return results
}
