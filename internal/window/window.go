// Package window runs many small jobs (a tree's file uploads, a backup's
// files, their directories) a bounded number at a time. It is the one
// place the CLIs' "how many at once" lives: lafs cp -r, tahoe cp -r and
// both backups use it, with Default unless told otherwise.
//
// Results come back through a Result each, so a caller that collects them
// in the order it submitted the jobs prints and links in that order,
// whatever order the jobs finish in. The first job to fail cancels the
// window's context; the jobs after it see that cancellation, and Err
// reports the first failure rather than the cancellations it caused.
//
// It owns no I/O of its own.
package window

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Default is how many jobs run at once when the caller does not say.
// Eight small uploads keep ten loopback storage servers busy on two
// cores; more mostly adds memory.
const Default = 8

// Max bounds a window's size (a typo of 10000 should not open 10000
// connections' worth of uploads).
const Max = 256

// MemoryBudget bounds the memory that the jobs of one window submitted
// with GoSized hold between them: with it, a window of large files
// uploads them one at a time beside the small ones, where slots alone let
// eight encoders run at once (`tahoe cp -r` of eight 24 MiB files into
// the embedded grid peaked at 280-320 MiB; one at a time it peaks at
// 100-125 MiB and is no slower, each upload keeping both cores busy).
const MemoryBudget = 128 << 20

// UploadMemory estimates the most memory one upload of a size-byte file
// holds (the encoder's segments in flight, the share chunks waiting to be
// sent, and on the embedded grid the servers' side): about four times a
// small file, levelling off at 96 MiB for a file of 24 MiB or more, as
// measured. A size that is not known counts as large.
func UploadMemory(size int64) int64 {
	const most = 96 << 20
	if size < 0 || size > most/4 {
		return most
	}
	return 4 * size
}

// Check reports whether n is a size a user may ask for.
func Check(n int) error {
	if n < 1 || n > Max {
		return fmt.Errorf("%d jobs at once: want 1 to %d", n, Max)
	}
	return nil
}

// Window runs jobs at most its size at a time.
type Window struct {
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	mem    *semaphore.Weighted // MemoryBudget, for GoSized
	wg     sync.WaitGroup

	mu  sync.Mutex
	err error // the first failure
}

// New returns a window of n slots (Default when n < 1) under ctx. Close
// it when done: that joins every job.
func New(ctx context.Context, n int) *Window {
	if n < 1 {
		n = Default
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Window{ctx: ctx, cancel: cancel, slots: make(chan struct{}, n), mem: semaphore.NewWeighted(MemoryBudget)}
}

// Context is the jobs' context: done when the window's parent is, or when
// a job has failed.
func (w *Window) Context() context.Context { return w.ctx }

// Err is the first job failure (nil when none failed; the parent
// context's error once it is done).
func (w *Window) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return context.Cause(w.ctx)
}

func (w *Window) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.ctx.Err() == nil {
		w.err = err
		w.cancel()
	}
}

// Cancel cancels the window's context: jobs not yet started never start
// (the caller gave up, e.g. its walk failed).
func (w *Window) Cancel() { w.cancel() }

// Close waits for every job and returns Err.
func (w *Window) Close() error {
	w.wg.Wait()
	err := w.Err()
	w.cancel()
	return err
}

// Waiter is a job whose end can be waited for.
type Waiter interface {
	wait()
}

// Result is a job's outcome.
type Result[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (r *Result[T]) wait() { <-r.done }

// Wait waits for the job and returns what it returned (a job never
// started because the window was cancelled returns the context's error).
func (r *Result[T]) Wait() (T, error) {
	<-r.done
	return r.val, r.err
}

// Done returns a Result that already holds v.
func Done[T any](v T) *Result[T] {
	r := &Result[T]{done: make(chan struct{}), val: v}
	close(r.done)
	return r
}

// Go runs job in the window: it waits (blocking the caller, so a producer
// cannot run ahead of the window by more than its size) for a free slot,
// then runs job on its own goroutine.
func Go[T any](w *Window, job func(context.Context) (T, error)) *Result[T] {
	r := &Result[T]{done: make(chan struct{})}
	if !take(w, r) {
		return r
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		run(w, r, job)
	}()
	return r
}

// GoSized is Go for a job that holds about cost bytes of memory while it
// runs (UploadMemory of its file, say): besides a slot it waits for that
// much of the window's MemoryBudget (all of it when cost is larger, so a
// job too large for the budget runs alone among sized jobs), and gives it
// back when done.
func GoSized[T any](w *Window, cost int64, job func(context.Context) (T, error)) *Result[T] {
	cost = min(max(cost, 0), MemoryBudget)
	r := &Result[T]{done: make(chan struct{})}
	if !take(w, r) {
		return r
	}
	if err := w.mem.Acquire(w.ctx, cost); err != nil {
		<-w.slots
		r.err = err
		close(r.done)
		return r
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.mem.Release(cost)
		run(w, r, job)
	}()
	return r
}

// After runs job in the window once every one of deps is done, without
// blocking the caller: a directory made after its children. It waits for
// its slot only when its dependencies are done, so jobs waiting on others
// never hold the slots those others need.
func After[T any](w *Window, deps []Waiter, job func(context.Context) (T, error)) *Result[T] {
	r := &Result[T]{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for _, d := range deps {
			d.wait()
		}
		if !take(w, r) {
			return
		}
		run(w, r, job)
	}()
	return r
}

// take waits for a slot for r's job; when the window is cancelled first,
// r ends with the context's error and take returns false.
func take[T any](w *Window, r *Result[T]) bool {
	select {
	case w.slots <- struct{}{}:
		return true
	case <-w.ctx.Done():
		r.err = w.ctx.Err()
		close(r.done)
		return false
	}
}

// run runs job holding a slot, records its outcome and frees the slot.
func run[T any](w *Window, r *Result[T], job func(context.Context) (T, error)) {
	defer func() { <-w.slots }()
	defer close(r.done)
	if err := w.ctx.Err(); err != nil {
		r.err = err // cancelled while it waited for its slot
		return
	}
	r.val, r.err = job(w.ctx)
	if r.err != nil && !(errors.Is(r.err, context.Canceled) && w.ctx.Err() != nil) {
		w.fail(r.err)
	}
}
