package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// okCount is how many calls answered without an error.
func okCount[T any](rs []Result[T]) int {
	n := 0
	for _, r := range rs {
		if r.Done && r.Err == nil {
			n++
		}
	}
	return n
}

func TestStaged(t *testing.T) {
	fail := errors.New("down")
	cases := []struct {
		name      string
		n         int
		hung      map[int]bool
		failing   map[int]bool
		stall     time.Duration
		plan      func(Progress[int]) (int, bool)
		maxWait   time.Duration
		wantAsked int
		wantDone  []bool // for the indexes asked
	}{
		{name: "two waves of two, then enough", n: 6, maxWait: time.Second,
			plan: func(p Progress[int]) (int, bool) {
				if okCount(p.Results) >= 4 {
					return 0, true
				}
				if p.Pending == 0 {
					return 2, false
				}
				return 0, false
			},
			wantAsked: 4, wantDone: []bool{true, true, true, true}},
		{name: "a failure is replaced at once", n: 5, failing: map[int]bool{1: true}, maxWait: time.Second,
			plan: func(p Progress[int]) (int, bool) {
				ok := okCount(p.Results)
				if ok >= 3 {
					return 0, true
				}
				return 3 - ok - p.Pending, false
			},
			wantAsked: 4, wantDone: []bool{true, true, true, true}},
		{name: "a hung call is hedged after the stall and cut short", n: 4, hung: map[int]bool{0: true}, stall: 50 * time.Millisecond, maxWait: time.Second,
			plan: func(p Progress[int]) (int, bool) {
				if okCount(p.Results) >= 2 {
					return 0, true
				}
				if p.Asked == 0 {
					return 2, false
				}
				if p.Stalled {
					return p.Pending, false
				}
				return 0, false
			},
			wantAsked: 3, wantDone: []bool{false, true, true}},
		{name: "the plan wants more than there are", n: 3, maxWait: time.Second,
			plan:      func(p Progress[int]) (int, bool) { return 10, false },
			wantAsked: 3, wantDone: []bool{true, true, true}},
		{name: "nothing to ask", n: 0, maxWait: 100 * time.Millisecond,
			plan: func(p Progress[int]) (int, bool) { return 1, false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var running, calls atomic.Int32
			ask := func(ctx context.Context, i int) (int, error) {
				running.Add(1)
				defer running.Add(-1)
				calls.Add(1)
				if tc.hung[i] {
					<-ctx.Done()
					return 0, ctx.Err()
				}
				if tc.failing[i] {
					return 0, fail
				}
				return i * 10, nil
			}
			start := time.Now()
			rs := Staged(context.Background(), tc.n, StagedOptions{Timeout: time.Minute, Stall: tc.stall}, ask, tc.plan)
			if d := time.Since(start); d > tc.maxWait {
				t.Fatalf("took %v, want under %v", d, tc.maxWait)
			}
			if r := running.Load(); r != 0 {
				t.Fatalf("%d calls still running after Staged returned", r)
			}
			if got := int(calls.Load()); got != tc.wantAsked {
				t.Fatalf("%d calls, want %d", got, tc.wantAsked)
			}
			if len(rs) != tc.n {
				t.Fatalf("%d results for %d calls", len(rs), tc.n)
			}
			for i, r := range rs {
				if i >= tc.wantAsked {
					if r.Done || r.Err != nil {
						t.Errorf("index %d was never asked: %+v", i, r)
					}
					continue
				}
				if r.Done != tc.wantDone[i] {
					t.Errorf("call %d: done %v, err %v", i, r.Done, r.Err)
				}
				if r.Done && r.Err == nil && r.Value != i*10 {
					t.Errorf("call %d: value %d", i, r.Value)
				}
			}
		})
	}
}

func TestStagedHonoursCallerContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var running atomic.Int32
	rs := Staged(ctx, 3, StagedOptions{}, hangOrAnswer(&running, map[int]bool{0: true, 1: true, 2: true}),
		func(p Progress[int]) (int, bool) { return 3, false })
	if r := running.Load(); r != 0 {
		t.Fatalf("%d calls still running", r)
	}
	for i, r := range rs {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("call %d: %v", i, r.Err)
		}
	}
}
