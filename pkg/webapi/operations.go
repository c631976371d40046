package webapi

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Lifetimes of operation handles (Tahoe's OphandleTable).
const (
	uncollectedHandleLifetime = 4 * 24 * time.Hour
	collectedHandleLifetime   = 24 * time.Hour
)

// operation is a long operation behind an ophandle (deep-check, manifest,
// deep-size, deep-stats): it runs on its own and renders its status.
type operation interface {
	// finished reports whether the operation is over.
	finished() bool
	// done is closed when the operation finishes.
	done() <-chan struct{}
	// cancel stops it.
	cancel()
	// render writes its status page (output= selects the form).
	render(q *request) error
}

type opEntry struct {
	op    operation
	added time.Time
	timer *time.Timer
}

// opTable holds the operations by handle and expires them.
type opTable struct {
	mu      sync.Mutex
	handles map[string]*opEntry
	closed  bool
	wg      sync.WaitGroup
	stop    chan struct{}
}

func newOpTable() *opTable {
	return &opTable{handles: map[string]*opEntry{}, stop: make(chan struct{})}
}

// add registers op under handle; retainFor < 0 means Tahoe's default
// lifetimes.
func (t *opTable) add(handle string, op operation, retainFor time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		op.cancel()
		return
	}
	if old, ok := t.handles[handle]; ok {
		t.releaseLocked(handle, old)
	}
	e := &opEntry{op: op, added: time.Now()}
	t.handles[handle] = e
	if retainFor >= 0 {
		t.setTimerLocked(handle, e, retainFor)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		select {
		case <-op.done():
		case <-t.stop:
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if cur, ok := t.handles[handle]; ok && cur == e && e.timer == nil {
			t.setTimerLocked(handle, e, max(uncollectedHandleLifetime, time.Since(e.added)))
		}
	}()
}

func (t *opTable) setTimerLocked(handle string, e *opEntry, d time.Duration) {
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(d, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if cur, ok := t.handles[handle]; ok && cur == e {
			t.releaseLocked(handle, e)
		}
	})
}

func (t *opTable) releaseLocked(handle string, e *opEntry) {
	if e.timer != nil {
		e.timer.Stop()
	}
	delete(t.handles, handle)
}

func (t *opTable) get(handle string) (*opEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.handles[handle]
	return e, ok
}

// close cancels every operation and stops every timer.
func (t *opTable) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	close(t.stop)
	for h, e := range t.handles {
		e.op.cancel()
		t.releaseLocked(h, e)
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// startOperation registers op under the request's ophandle= and
// redirects to its status page, as Tahoe does.
func (s *Server) startOperation(q *request, op operation) error {
	handle, _ := q.arg("ophandle")
	if handle == "" {
		op.cancel()
		return badRequest("slow operation requires ophandle=")
	}
	retain := time.Duration(-1)
	if v, ok := q.arg("retain-for"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			op.cancel()
			return badRequest("invalid retain-for= argument")
		}
		retain = time.Duration(n) * time.Second
	}
	s.ops.add(handle, op, retain)
	target := "/operations/" + url.PathEscape(handle)
	if out, ok := q.arg("output"); ok && out != "" {
		target += "?output=" + url.QueryEscape(out)
	}
	redirectTo(q, target)
	return nil
}

// serveOperations is /operations/$HANDLE: an operation's status, its
// cancellation (POST t=cancel), retain-for= and release-after-complete=.
func (s *Server) serveOperations(q *request, segs []string) error {
	if len(segs) == 0 || segs[0] == "" {
		return notFound()
	}
	handle := segs[0]
	e, ok := s.ops.get(handle)
	if !ok {
		return &webError{code: http.StatusNotFound, page: true, text: "unknown/expired handle '" + html.EscapeString(handle) + "'"}
	}
	t := q.argOr("t", "status")
	s.ops.mu.Lock()
	if t == "cancel" && q.r.Method == http.MethodPost {
		e.op.cancel()
		s.ops.releaseLocked(handle, e)
	} else {
		retainArg, hasRetain := q.arg("retain-for")
		if hasRetain {
			n, err := strconv.Atoi(retainArg)
			if err != nil || n < 0 {
				s.ops.mu.Unlock()
				return badRequest("invalid retain-for= argument")
			}
			s.ops.setTimerLocked(handle, e, time.Duration(n)*time.Second)
		}
		if e.op.finished() {
			release, err := q.boolArg("release-after-complete", false)
			if err != nil {
				s.ops.mu.Unlock()
				return err
			}
			if release {
				s.ops.releaseLocked(handle, e)
			} else if !hasRetain {
				s.ops.setTimerLocked(handle, e, collectedHandleLifetime)
			}
		}
	}
	s.ops.mu.Unlock()
	return e.op.render(q)
}
