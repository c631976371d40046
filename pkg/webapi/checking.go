package webapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/webapi/deepops"
)

// checking.go joins t=check and the deep operations (start-deep-check,
// stream-deep-check, start-manifest, stream-manifest, start-deep-size,
// start-deep-stats) to pkg/webapi/deepops, which does them over the
// node's store; the start-* operations live in this server's table of
// operation handles.

// deepHandlers returns the handlers over the store, or 501 when the store
// cannot check (it has no shares to look at).
func (s *Server) deepHandlers(q *request, t string) (*deepops.Handlers, error) {
	ck, ok := s.o.Store.(deep.Checker)
	if !ok {
		return nil, s.notImplemented(q, "t="+t)
	}
	return &deepops.Handlers{Store: s.store, Checker: ck, Ops: serverOps{s}}, nil
}

// withArgs is the request with its POST form fields (where Tahoe also
// takes t=, verify=, ophandle= ...) folded into the query deepops reads.
func withArgs(q *request) *http.Request {
	v := url.Values{}
	for k, vals := range q.query {
		v[k] = vals
	}
	for k, val := range q.form {
		if _, ok := v[k]; !ok && k != "file" {
			v.Set(k, val)
		}
	}
	r := q.r.Clone(q.r.Context())
	u := *q.r.URL
	u.RawQuery = v.Encode()
	r.URL = &u
	return r
}

// deepOperation serves one of the checking t= values on the object c.
func (s *Server) deepOperation(q *request, t string, c *caps.Cap) error {
	h, err := s.deepHandlers(q, t)
	if err != nil {
		return err
	}
	r := withArgs(q)
	switch t {
	case "check":
		h.Check(q.w, r, c)
	case "start-deep-check":
		h.StartDeepCheck(q.w, r, c)
	case "stream-deep-check":
		h.StreamDeepCheck(q.w, r, c)
	case "start-manifest":
		h.StartManifest(q.w, r, c)
	case "stream-manifest":
		h.StreamManifest(q.w, r, c)
	case "start-deep-size":
		h.StartDeepSize(q.w, r, c)
	case "start-deep-stats":
		h.StartDeepStats(q.w, r, c)
	default:
		return badRequest("bad t=%s", t)
	}
	return nil
}

// serverOps runs deepops' operations in the server's handle table.
type serverOps struct{ s *Server }

// Start implements deepops.Starter.
func (o serverOps) Start(handle string, retainFor time.Duration, run func(ctx context.Context), status deepops.Status) error {
	t := o.s.ops
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return errCode(http.StatusServiceUnavailable, "the node is shutting down")
	}
	t.wg.Add(1) // joined by the table's close
	t.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	op := &deepOp{cancelFn: cancel, fin: make(chan struct{}), status: status}
	go func() {
		defer t.wg.Done()
		defer close(op.fin)
		defer cancel()
		run(ctx)
	}()
	retain := time.Duration(-1)
	if retainFor > 0 {
		retain = retainFor
	}
	t.add(handle, op, retain)
	return nil
}

// deepOp is a running deepops operation as the handle table sees it.
type deepOp struct {
	cancelFn context.CancelFunc
	fin      chan struct{}
	status   deepops.Status
}

func (o *deepOp) finished() bool {
	select {
	case <-o.fin:
		return true
	default:
		return false
	}
}

func (o *deepOp) done() <-chan struct{} { return o.fin }
func (o *deepOp) cancel()               { o.cancelFn() }

func (o *deepOp) render(q *request) error {
	ctype, body := o.status(strings.ToLower(q.argOr("output", "")), o.finished())
	q.w.Header().Set("Content-Type", ctype)
	_, err := q.w.Write([]byte(body))
	return err
}
