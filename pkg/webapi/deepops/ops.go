// Package deepops serves the web API's checking and deep operations over a
// file store: t=check (verify, repair, add-lease, output=JSON),
// t=start-deep-check, t=stream-deep-check, t=start-manifest,
// t=stream-manifest, t=start-deep-size and t=start-deep-stats, and the
// operation handles under /operations/ that the start-* operations report
// through (status, retain-for, release-after-complete, t=cancel), as
// Tahoe-LAFS answers them.
//
// It owns no routing: pkg/webapi resolves the path to a cap and hands the
// request to a Handlers method. The work is pkg/deep's and pkg/client's
// (through deep.Checker); the formats are pkg/health's and pkg/deep's.
package deepops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handle lifetimes, as Tahoe's: an uncollected finished operation stays at
// least four days (or as long as it ran), a collected one a day.
const (
	UncollectedLifetime = 4 * 24 * time.Hour
	CollectedLifetime   = 24 * time.Hour
	// DefaultMaxOperations bounds the handles a Table keeps.
	DefaultMaxOperations = 1000
)

// Errors of Table.Start.
var (
	ErrHandleInUse = errors.New("operation handle already in use")
	ErrTooMany     = errors.New("too many operations in progress")
)

// Status renders an operation's state: the body for output (lower case:
// "json", "text", "html" or ""), whether finished or not.
type Status func(output string, finished bool) (contentType, body string)

// op is one operation behind a handle.
type op struct {
	cancel  context.CancelFunc
	done    chan struct{}
	status  Status
	added   time.Time
	expires time.Time // zero: not yet decided (still running, no retain-for)
	retain  bool      // a client chose the lifetime with retain-for
}

func (o *op) finished() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// Table is the web API's table of operation handles. Operations run on
// their own goroutines under the table's context; Close cancels them and
// waits for every one. Expired handles are dropped as the table is used,
// so it needs no timer goroutine.
type Table struct {
	ctx    context.Context
	cancel context.CancelFunc
	now    func() time.Time
	max    int

	mu  sync.Mutex
	ops map[string]*op
	wg  sync.WaitGroup
}

// NewTable makes a table keeping at most max handles (DefaultMaxOperations
// when max <= 0); now is its clock (time.Now when nil).
func NewTable(max int, now func() time.Time) *Table {
	if max <= 0 {
		max = DefaultMaxOperations
	}
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Table{ctx: ctx, cancel: cancel, now: now, max: max, ops: map[string]*op{}}
}

// Close cancels every operation and waits for them all.
func (t *Table) Close() {
	t.cancel()
	t.wg.Wait()
}

// sweep drops expired handles; t.mu is held.
func (t *Table) sweep() {
	now := t.now()
	for h, o := range t.ops {
		if o.finished() && !o.retain && o.expires.IsZero() {
			// Finished and never looked at: Tahoe's uncollected lifetime,
			// counted from now on.
			o.expires = now.Add(max(UncollectedLifetime, now.Sub(o.added)))
		}
		if !o.expires.IsZero() && now.After(o.expires) {
			if !o.finished() {
				o.cancel()
			}
			delete(t.ops, h)
		}
	}
}

// Start runs an operation under handle. retainFor, when positive, sets the
// handle's lifetime from now (Tahoe's retain-for=). run is given a context
// that ends when the operation is cancelled or the table closes; status
// renders its state whenever asked, so it must be safe for concurrent use
// with run.
func (t *Table) Start(handle string, retainFor time.Duration, run func(ctx context.Context), status Status) error {
	if handle == "" {
		return fmt.Errorf("an operation needs a handle")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep()
	if _, ok := t.ops[handle]; ok {
		return fmt.Errorf("%q: %w", handle, ErrHandleInUse)
	}
	if len(t.ops) >= t.max {
		return ErrTooMany
	}
	ctx, cancel := context.WithCancel(t.ctx)
	o := &op{cancel: cancel, done: make(chan struct{}), status: status, added: t.now()}
	if retainFor > 0 {
		o.expires, o.retain = t.now().Add(retainFor), true
	}
	t.ops[handle] = o
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer close(o.done)
		defer cancel()
		run(ctx)
	}()
	return nil
}

// Wait blocks until the operation under handle has finished (or ctx ends);
// false when there is no such handle.
func (t *Table) Wait(ctx context.Context, handle string) bool {
	t.mu.Lock()
	o, ok := t.ops[handle]
	t.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-o.done:
	case <-ctx.Done():
	}
	return true
}

// ServeHTTP answers /operations/HANDLE: GET (any t but cancel) renders the
// status for output=; POST t=cancel cancels the operation, renders its
// status and releases the handle. retain-for= resets the lifetime;
// release-after-complete=true releases a finished handle once rendered.
// An unknown or expired handle is a 404.
func (t *Table) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	handle := strings.Trim(strings.TrimPrefix(r.URL.Path, "/operations/"), "/")
	q := r.URL.Query()
	t.mu.Lock()
	t.sweep()
	o, ok := t.ops[handle]
	if !ok {
		t.mu.Unlock()
		http.Error(w, fmt.Sprintf("unknown/expired handle '%s'", handle), http.StatusNotFound)
		return
	}
	if q.Get("t") == "cancel" {
		if r.Method != http.MethodPost {
			t.mu.Unlock()
			http.Error(w, "t=cancel needs a POST", http.StatusMethodNotAllowed)
			return
		}
		o.cancel()
		delete(t.ops, handle)
	} else {
		if v := q.Get("retain-for"); v != "" {
			secs, err := strconv.Atoi(v)
			if err != nil || secs < 0 {
				t.mu.Unlock()
				http.Error(w, fmt.Sprintf("bad retain-for=%q", v), http.StatusBadRequest)
				return
			}
			o.expires, o.retain = t.now().Add(time.Duration(secs)*time.Second), true
		}
		if o.finished() {
			release, err := BoolArg(q.Get("release-after-complete"), false)
			if err != nil {
				t.mu.Unlock()
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if release {
				delete(t.ops, handle)
			} else if q.Get("retain-for") == "" {
				o.expires, o.retain = t.now().Add(CollectedLifetime), true
			}
		}
	}
	finished := o.finished()
	t.mu.Unlock()
	ctype, body := o.status(strings.ToLower(q.Get("output")), finished)
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write([]byte(body))
}

// BoolArg reads a boolean query argument as Tahoe does (true, t, 1, on /
// false, f, 0, off, any case); "" is def.
func BoolArg(v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true", "t", "1", "on":
		return true, nil
	case "false", "f", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean argument: %q", v)
}
