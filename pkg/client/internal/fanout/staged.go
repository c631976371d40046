package fanout

import (
	"context"
	"sync"
	"time"
)

// StagedOptions tune Staged.
type StagedOptions struct {
	// Timeout bounds each call (0: only the caller's context bounds it).
	Timeout time.Duration
	// Stall is how long Staged waits for the next answer while calls are
	// pending before it asks the plan again with Progress.Stalled set, so
	// that the plan may ask others in place of slow ones (0: never).
	Stall time.Duration
}

// Progress is what a Staged plan decides on.
type Progress[T any] struct {
	// Results are by index; only [0, Asked) were called, and a call still
	// pending has Done false.
	Results []Result[T]
	// Asked is how many calls have been started: always indexes
	// [0, Asked), in order.
	Asked int
	// Pending is how many started calls have not returned.
	Pending int
	// Stalled says no call returned for StagedOptions.Stall while some
	// were pending.
	Stalled bool
}

// Staged calls ask(ctx, i) in index order, as many at a time as plan
// says, and returns the results by index: plan is called first with
// nothing asked, then after each answer and each stall, always serially,
// and returns how many more calls to start (the next indexes; at most
// those left) and whether the answers so far suffice. Once they do, the
// calls still pending are cancelled (they end with Done false). Staged
// also returns when every call has returned and plan wants no more, or
// when every index has been asked and answered. Each call is bounded by
// o.Timeout and all are joined before Staged returns, so ask must honour
// its context. Indexes never asked have Done false and a nil Err.
func Staged[T any](ctx context.Context, n int, o StagedOptions, ask func(ctx context.Context, i int) (T, error), plan func(Progress[T]) (more int, done bool)) []Result[T] {
	results := make([]Result[T], n)
	if n == 0 {
		return results
	}
	type answer struct {
		i   int
		v   T
		err error
	}
	answers := make(chan answer, n)
	cancels := make([]context.CancelFunc, n)
	var wg sync.WaitGroup
	asked, pending := 0, 0
	start := func(more int) {
		for ; more > 0 && asked < n; more-- {
			i := asked
			asked++
			pending++
			cctx, cancel := context.WithCancel(ctx)
			if o.Timeout > 0 {
				cctx, cancel = context.WithTimeout(ctx, o.Timeout)
			}
			cancels[i] = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := ask(cctx, i)
				answers <- answer{i, v, err}
			}()
		}
	}
	progress := func(stalled bool) Progress[T] {
		return Progress[T]{Results: results, Asked: asked, Pending: pending, Stalled: stalled}
	}
	more, done := plan(progress(false))
	if !done {
		start(more)
	}
	var stall *time.Timer
	var stallC <-chan time.Time
	arm := func() {
		if o.Stall <= 0 {
			return
		}
		if stall == nil {
			stall = time.NewTimer(o.Stall)
			stallC = stall.C
			return
		}
		stall.Reset(o.Stall)
	}
	arm()
	for !done && pending > 0 {
		stalled := false
		select {
		case a := <-answers:
			pending--
			cancels[a.i]()
			results[a.i] = Result[T]{Value: a.v, Err: a.err, Done: true}
		case <-stallC:
			stalled = true
		case <-ctx.Done():
			// Every call sees the cancellation and returns.
			for pending > 0 {
				a := <-answers
				pending--
				cancels[a.i]()
				results[a.i] = Result[T]{Value: a.v, Err: a.err, Done: a.err == nil}
			}
			continue
		}
		more, done = plan(progress(stalled))
		if !done {
			start(more)
		}
		arm()
	}
	if stall != nil {
		stall.Stop()
	}
	// Cut the pending calls short: not answers.
	for i := 0; i < asked; i++ {
		if !results[i].Done {
			cancels[i]()
		}
	}
	for ; pending > 0; pending-- {
		a := <-answers
		results[a.i] = Result[T]{Value: a.v, Err: a.err}
	}
	wg.Wait()
	return results
}
