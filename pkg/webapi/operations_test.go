package webapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOp is an operation the test finishes by hand.
type fakeOp struct {
	once      sync.Once
	ch        chan struct{}
	mu        sync.Mutex
	cancelled bool
}

func newFakeOp() *fakeOp { return &fakeOp{ch: make(chan struct{})} }

func (f *fakeOp) finish()               { f.once.Do(func() { close(f.ch) }) }
func (f *fakeOp) done() <-chan struct{} { return f.ch }
func (f *fakeOp) finished() bool {
	select {
	case <-f.ch:
		return true
	default:
		return false
	}
}
func (f *fakeOp) cancel() {
	f.mu.Lock()
	f.cancelled = true
	f.mu.Unlock()
	f.finish()
}
func (f *fakeOp) render(q *request) error {
	if f.finished() {
		return textPlain(q, "finished: yes\n")
	}
	return textPlain(q, "finished: no\n")
}

func TestOperationHandles(t *testing.T) {
	e := newEnv(t)
	start := func(handle, query string, op operation) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/uri?t=start-manifest&ophandle="+handle+query, nil)
		q, err := e.srv.newRequest(rec, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.startOperation(q, op); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	op := newFakeOp()
	rec := start("H1", "&output=JSON", op)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "http://example.com/operations/H1?output=JSON" {
		t.Errorf("start: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := e.get("/operations/H1?output=JSON").must(t, 200); got != "finished: no\n" {
		t.Errorf("running: %q", got)
	}
	op.finish()
	if got := e.get("/operations/H1?output=JSON").must(t, 200); got != "finished: yes\n" {
		t.Errorf("finished: %q", got)
	}
	// release-after-complete drops the handle after answering.
	e.get("/operations/H1?release-after-complete=true").must(t, 200)
	if r := e.get("/operations/H1"); r.code != 404 {
		t.Errorf("released handle: %d", r.code)
	}
	// POST t=cancel cancels and releases.
	op2 := newFakeOp()
	start("H2", "", op2)
	e.post("/operations/H2?t=cancel", "").must(t, 200)
	op2.mu.Lock()
	cancelled := op2.cancelled
	op2.mu.Unlock()
	if !cancelled {
		t.Error("cancel did not reach the operation")
	}
	if r := e.get("/operations/H2"); r.code != 404 {
		t.Errorf("cancelled handle: %d", r.code)
	}
	// retain-for= expires a handle.
	op3 := newFakeOp()
	start("H3", "&retain-for=0", op3)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r := e.get("/operations/H3"); r.code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("retain-for=0 did not expire the handle")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := e.get("/operations/H4?retain-for=x"); r.code != 404 || !strings.Contains(r.body, "unknown/expired handle") {
		t.Errorf("unknown: %d", r.code)
	}
	// Close cancels what is left.
	op5 := newFakeOp()
	start("H5", "", op5)
	_ = e.srv.Close()
	if !op5.finished() {
		t.Error("Close left an operation running")
	}
}
