package window

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestBounded: never more than n jobs run at once, and every result comes
// back to the job that made it, whatever order they finish in.
func TestBounded(t *testing.T) {
	for _, n := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := New(context.Background(), n)
			var running, peak atomic.Int32
			var rs []*Result[int]
			for i := 0; i < 50; i++ {
				rs = append(rs, Go(w, func(context.Context) (int, error) {
					now := running.Add(1)
					for {
						p := peak.Load()
						if now <= p || peak.CompareAndSwap(p, now) {
							break
						}
					}
					time.Sleep(time.Duration(50-i) * 20 * time.Microsecond) // later jobs finish sooner
					running.Add(-1)
					return i * i, nil
				}))
			}
			for i, r := range rs {
				if v, err := r.Wait(); err != nil || v != i*i {
					t.Fatalf("job %d: %d, %v", i, v, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if p := peak.Load(); p > int32(n) || (n > 1 && p < 2) {
				t.Fatalf("peak %d jobs at once in a window of %d", p, n)
			}
		})
	}
}

// TestFirstFailure: a failing job cancels the rest, and Err and Close name
// the failure, not the cancellations it caused; jobs submitted after it do
// not run.
func TestFirstFailure(t *testing.T) {
	w := New(context.Background(), 4)
	boom := errors.New("boom")
	var ran atomic.Int32
	var rs []*Result[struct{}]
	for i := 0; i < 20; i++ {
		rs = append(rs, Go(w, func(ctx context.Context) (struct{}, error) {
			ran.Add(1)
			if i == 2 {
				return struct{}{}, boom
			}
			select {
			case <-ctx.Done():
				return struct{}{}, fmt.Errorf("job %d: %w", i, ctx.Err())
			case <-time.After(5 * time.Second):
				return struct{}{}, nil
			}
		}))
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want boom", err)
	}
	if err := w.Err(); !errors.Is(err, boom) {
		t.Fatalf("Err: %v", err)
	}
	if _, err := rs[19].Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("last job: %v, want cancelled", err)
	}
	if n := ran.Load(); n > 8 {
		t.Fatalf("%d jobs ran after the failure cancelled the window", n)
	}
}

// TestAfterNeverDeadlocks: jobs that wait for others (a directory after
// its files, a parent after its subdirectories) run even in a window of
// one slot, because they take their slot only once what they wait for is
// done.
func TestAfterNeverDeadlocks(t *testing.T) {
	w := New(context.Background(), 1)
	var order []string
	leaf := func(name string) *Result[string] {
		return Go(w, func(context.Context) (string, error) { return name, nil })
	}
	var level []Waiter
	var last *Result[string]
	for d := 0; d < 30; d++ {
		a, b := leaf(fmt.Sprintf("a%d", d)), leaf(fmt.Sprintf("b%d", d))
		deps := append(level, a, b)
		last = After(w, deps, func(context.Context) (string, error) {
			x, _ := a.Wait()
			y, _ := b.Wait()
			return x + y, nil
		})
		level = []Waiter{last}
		order = append(order, fmt.Sprintf("a%db%d", d, d))
	}
	done := make(chan struct{})
	go func() { _ = w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlocked")
	}
	if v, err := last.Wait(); err != nil || v != order[len(order)-1] {
		t.Fatalf("%q %v", v, err)
	}
}

// TestParentCancelled: cancelling the parent stops the window; Go returns
// at once with the context's error.
func TestParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := New(ctx, 1)
	started := make(chan struct{})
	first := Go(w, func(ctx context.Context) (int, error) { close(started); <-ctx.Done(); return 0, ctx.Err() })
	<-started
	cancel()
	if _, err := Go(w, func(context.Context) (int, error) { return 1, nil }).Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := first.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close: %v", err)
	}
}

func TestCheck(t *testing.T) {
	for n, ok := range map[int]bool{0: false, 1: true, 8: true, Max: true, Max + 1: false, -3: false} {
		if (Check(n) == nil) != ok {
			t.Errorf("Check(%d) = %v", n, Check(n))
		}
	}
}

func BenchmarkWindow(b *testing.B) {
	w := New(context.Background(), Default)
	for i := 0; i < b.N; i++ {
		Go(w, func(context.Context) (int, error) { return i, nil })
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// TestGoSized: sized jobs share MemoryBudget (large files a few at a
// time, small ones up to the slots; one larger than the budget runs alone
// among sized jobs), plain Go jobs are not held back by it, and every
// result still comes back to its job.
func TestGoSized(t *testing.T) {
	big := UploadMemory(1 << 30)
	for _, tc := range []struct {
		name     string
		costs    []int64
		wantPeak int32 // most sized jobs at once
	}{
		{"large files", []int64{big, big, big, big, big, big}, 1},
		{"medium files", []int64{UploadMemory(12 << 20), UploadMemory(12 << 20), UploadMemory(12 << 20), UploadMemory(12 << 20)}, 2},
		{"small files", []int64{UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096), UploadMemory(4096)}, 8},
		{"over the budget", []int64{2 * MemoryBudget, 2 * MemoryBudget, 2 * MemoryBudget}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(context.Background(), 8)
			var running, peak atomic.Int32
			var rs []*Result[int]
			for i, c := range tc.costs {
				rs = append(rs, GoSized(w, c, func(context.Context) (int, error) {
					now := running.Add(1)
					for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
					}
					time.Sleep(5 * time.Millisecond)
					running.Add(-1)
					return i, nil
				}))
			}
			for i, r := range rs {
				if v, err := r.Wait(); err != nil || v != i {
					t.Fatalf("job %d: %d, %v", i, v, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if p := peak.Load(); p != tc.wantPeak {
				t.Errorf("peak %d sized jobs at once, want %d", p, tc.wantPeak)
			}
		})
	}
	t.Run("cancelled while waiting for memory", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := New(ctx, 8)
		hold := make(chan struct{})
		first := GoSized(w, MemoryBudget, func(context.Context) (int, error) { <-hold; return 1, nil })
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		second := GoSized(w, 1, func(context.Context) (int, error) { return 2, nil })
		if _, err := second.Wait(); !errors.Is(err, context.Canceled) {
			t.Errorf("second job: %v, want cancelled", err)
		}
		close(hold)
		first.Wait()
		w.Close()
	})
}

func TestUploadMemory(t *testing.T) {
	for _, tc := range []struct{ size, want int64 }{
		{0, 0}, {4096, 16384}, {12 << 20, 48 << 20}, {24 << 20, 96 << 20}, {1 << 40, 96 << 20}, {-1, 96 << 20},
	} {
		if got := UploadMemory(tc.size); got != tc.want {
			t.Errorf("UploadMemory(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}
