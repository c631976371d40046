package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// hangOrAnswer answers i*10 at once, except for the indexes in hung, which
// block until their context ends.
func hangOrAnswer(running *atomic.Int32, hung map[int]bool) func(context.Context, int) (int, error) {
	return func(ctx context.Context, i int) (int, error) {
		running.Add(1)
		defer running.Add(-1)
		if hung[i] {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return i * 10, nil
	}
}

func TestAsk(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		hung      map[int]bool
		opts      Options
		enough    func([]Result[int]) bool
		maxWait   time.Duration
		wantDone  []bool
		wantTimed []bool // Err is DeadlineExceeded
	}{
		{name: "all answer", n: 3, opts: Options{Timeout: time.Second}, maxWait: 500 * time.Millisecond,
			wantDone: []bool{true, true, true}, wantTimed: []bool{false, false, false}},
		{name: "a hung server times out", n: 3, hung: map[int]bool{1: true}, opts: Options{Timeout: 100 * time.Millisecond}, maxWait: time.Second,
			wantDone: []bool{true, true, true}, wantTimed: []bool{false, true, false}},
		{name: "enough stops waiting after the grace", n: 4, hung: map[int]bool{0: true},
			opts: Options{Timeout: time.Minute, Grace: 50 * time.Millisecond},
			enough: func(rs []Result[int]) bool {
				got := 0
				for _, r := range rs {
					if r.Done && r.Err == nil {
						got++
					}
				}
				return got >= 2
			},
			maxWait: time.Second, wantDone: []bool{false, true, true, true}, wantTimed: []bool{false, false, false, false}},
		{name: "nothing to ask", n: 0, maxWait: 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var running atomic.Int32
			start := time.Now()
			rs := Ask(context.Background(), tc.n, tc.opts, hangOrAnswer(&running, tc.hung), tc.enough)
			if d := time.Since(start); d > tc.maxWait {
				t.Fatalf("took %v, want under %v", d, tc.maxWait)
			}
			if r := running.Load(); r != 0 {
				t.Fatalf("%d calls still running after Ask returned", r)
			}
			if len(rs) != tc.n {
				t.Fatalf("%d results for %d calls", len(rs), tc.n)
			}
			for i, r := range rs {
				if r.Done != tc.wantDone[i] {
					t.Errorf("call %d: done %v", i, r.Done)
				}
				if timed := errors.Is(r.Err, context.DeadlineExceeded); timed != tc.wantTimed[i] {
					t.Errorf("call %d: err %v", i, r.Err)
				}
				if r.Done && r.Err == nil && r.Value != i*10 {
					t.Errorf("call %d: value %d", i, r.Value)
				}
			}
		})
	}
}

func TestAskHonoursCallerContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var running atomic.Int32
	rs := Ask(ctx, 2, Options{}, hangOrAnswer(&running, map[int]bool{0: true, 1: true}), nil)
	for i, r := range rs {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("call %d: %v", i, r.Err)
		}
	}
}
