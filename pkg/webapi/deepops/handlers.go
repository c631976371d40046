package deepops

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// Starter runs an operation under a handle (Table does; so can a web
// server's own table of handles).
type Starter interface {
	Start(handle string, retainFor time.Duration, run func(ctx context.Context), status Status) error
}

// Handlers serve the checking and deep operations of the web API.
type Handlers struct {
	Store   filestore.Store
	Checker deep.Checker
	Ops     Starter
}

// HTTPError is an error with the status code the web API answers it with.
type HTTPError struct {
	Code int
	Msg  string
}

func (e *HTTPError) Error() string { return e.Msg }

func badRequest(format string, a ...any) error {
	return &HTTPError{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, a...)}
}

func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var he *HTTPError
	if errors.As(err, &he) {
		code = he.Code
	}
	http.Error(w, err.Error(), code)
}

type checkArgs struct {
	health.CheckOptions
	repair bool
	output string
}

func parseCheckArgs(q url.Values) (checkArgs, error) {
	var a checkArgs
	var err error
	if a.Verify, err = BoolArg(q.Get("verify"), false); err != nil {
		return a, badRequest("%v", err)
	}
	if a.repair, err = BoolArg(q.Get("repair"), false); err != nil {
		return a, badRequest("%v", err)
	}
	if a.AddLease, err = BoolArg(q.Get("add-lease"), false); err != nil {
		return a, badRequest("%v", err)
	}
	a.output = strings.ToLower(q.Get("output"))
	return a, nil
}

func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, body)
}

func writeHTML(w http.ResponseWriter, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s</title></head><body><h1>%s</h1><pre>%s</pre></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
}

// Check answers POST ?t=check on the object c names: verify=, repair=,
// add-lease=; output=JSON for Tahoe's JSON, else an HTML page. A literal
// object answers the literal check results even with repair=true, as
// Tahoe's does.
func (h *Handlers) Check(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	a, err := parseCheckArgs(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	var text strings.Builder
	var body string
	literal := c.Kind == caps.KindLIT || c.Kind == caps.KindDIR2LIT
	if a.repair && !literal {
		res, err := h.Checker.CheckAndRepair(r.Context(), c, a.CheckOptions)
		if err != nil {
			fail(w, err)
			return
		}
		body = res.JSON()
		_ = health.WriteCheckAndRepair(&text, res)
	} else {
		res, err := h.Checker.Check(r.Context(), c, a.CheckOptions)
		if err != nil {
			fail(w, err)
			return
		}
		body = res.JSON()
		_ = health.WriteCheck(&text, res)
	}
	if a.output == "json" {
		writeText(w, body)
		return
	}
	writeHTML(w, "File Check Results", text.String())
}

// startArgs reads what every start-* operation needs.
func startArgs(r *http.Request) (handle string, retain time.Duration, err error) {
	q := r.URL.Query()
	handle = q.Get("ophandle")
	if handle == "" {
		return "", 0, badRequest("slow operation requires ophandle=")
	}
	if v := q.Get("retain-for"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			return "", 0, badRequest("bad retain-for=%q", v)
		}
		retain = time.Duration(secs) * time.Second
	}
	return handle, retain, nil
}

// redirect sends the client to the operation's status page, as Tahoe
// does after starting a slow operation.
func redirect(w http.ResponseWriter, r *http.Request, handle string) {
	target := "/operations/" + url.PathEscape(handle)
	if out := r.URL.Query().Get("output"); out != "" {
		target += "?output=" + url.QueryEscape(out)
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (h *Handlers) start(w http.ResponseWriter, r *http.Request, c *caps.Cap, t string, run func(ctx context.Context), status Status) {
	if !c.IsDirectory() {
		fail(w, badRequest("t=%s can only be invoked on a directory", t))
		return
	}
	handle, retain, err := startArgs(r)
	if err != nil {
		fail(w, err)
		return
	}
	if err := h.Ops.Start(handle, retain, run, status); err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, ErrHandleInUse) {
			code = http.StatusConflict
		}
		fail(w, &HTTPError{Code: code, Msg: err.Error()})
		return
	}
	redirect(w, r, handle)
}

// lockedReport is a deep check's report, read while it runs.
type lockedReport struct {
	mu  sync.Mutex
	r   *deep.Report
	err error
}

// StartDeepCheck answers POST ?t=start-deep-check&ophandle=H (verify=,
// repair=, add-lease=, retain-for=) on a directory.
func (h *Handlers) StartDeepCheck(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	a, err := parseCheckArgs(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	lr := &lockedReport{r: deep.NewReport(c, a.repair)}
	run := func(ctx context.Context) {
		_, err := deep.Check(ctx, h.Store, h.Checker, c, deep.CheckOptions{CheckOptions: a.CheckOptions, Repair: a.repair}, func(ch deep.Checked) error {
			lr.mu.Lock()
			lr.r.Add(ch)
			lr.mu.Unlock()
			return nil
		})
		lr.mu.Lock()
		lr.err = err
		lr.mu.Unlock()
	}
	status := func(output string, finished bool) (string, string) {
		lr.mu.Lock()
		defer lr.mu.Unlock()
		lr.r.Finished = finished
		if output == "json" {
			return "text/plain", lr.r.JSON()
		}
		var b strings.Builder
		fmt.Fprintf(&b, "finished: %s\n", yesNo(finished))
		if lr.err != nil {
			fmt.Fprintf(&b, "error: %v\n", lr.err)
		}
		fmt.Fprintf(&b, "objects checked: %d\nobjects healthy: %d\nobjects unhealthy: %d\n", lr.r.Checked, lr.r.Healthy, lr.r.Unhealthy)
		if lr.r.Repairing {
			fmt.Fprintf(&b, "repairs attempted: %d\nrepairs successful: %d\n", lr.r.RepairsAttempted, lr.r.RepairsSuccessful)
		}
		return "text/html; charset=utf-8", "<!DOCTYPE html>\n<html><body><pre>" + html.EscapeString(b.String()) + "</pre></body></html>\n"
	}
	h.start(w, r, c, "start-deep-check", run, status)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// streamer writes lines, flushing each one.
type streamer struct {
	w http.ResponseWriter
	f http.Flusher
}

func newStreamer(w http.ResponseWriter) *streamer {
	w.Header().Set("Content-Type", "text/plain")
	f, _ := w.(http.Flusher)
	return &streamer{w: w, f: f}
}

func (s *streamer) line(l string) error {
	if _, err := io.WriteString(s.w, l+"\n"); err != nil {
		return err
	}
	if s.f != nil {
		s.f.Flush()
	}
	return nil
}

// StreamDeepCheck answers POST ?t=stream-deep-check (verify=, repair=,
// add-lease=): one JSON line per object as it is checked, then the stats
// line; a failure ends the stream with an "ERROR:" line. Closing the
// connection cancels the walk.
func (h *Handlers) StreamDeepCheck(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	a, err := parseCheckArgs(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	if !c.IsDirectory() {
		fail(w, badRequest("t=stream-deep-check can only be invoked on a directory"))
		return
	}
	s := newStreamer(w)
	report, err := deep.Check(r.Context(), h.Store, h.Checker, c, deep.CheckOptions{CheckOptions: a.CheckOptions, Repair: a.repair}, func(ch deep.Checked) error {
		return s.line(ch.Line())
	})
	if err != nil {
		_ = s.line("ERROR: " + err.Error())
		return
	}
	_ = s.line(deep.StatsLine(&report.Stats))
}

// StreamManifest answers POST ?t=stream-manifest: one JSON line per
// object, then the stats line.
func (h *Handlers) StreamManifest(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	if !c.IsDirectory() {
		fail(w, badRequest("t=stream-manifest can only be invoked on a directory"))
		return
	}
	s := newStreamer(w)
	stats := &deep.Stats{}
	err := deep.Walk(r.Context(), h.Store, c, deep.Options{}, func(_ context.Context, n deep.Node) error {
		stats.Add(n)
		return s.line(deep.StreamLine(n))
	})
	if err != nil {
		_ = s.line("ERROR: " + err.Error())
		return
	}
	_ = s.line(deep.StatsLine(stats))
}

// walkState is a manifest or stats walk, read while it runs.
type walkState struct {
	mu    sync.Mutex
	nodes []deep.Node
	stats deep.Stats
	err   error
}

func (h *Handlers) walkOp(c *caps.Cap, keepNodes bool) (*walkState, func(ctx context.Context)) {
	ws := &walkState{}
	return ws, func(ctx context.Context) {
		err := deep.Walk(ctx, h.Store, c, deep.Options{}, func(_ context.Context, n deep.Node) error {
			ws.mu.Lock()
			defer ws.mu.Unlock()
			ws.stats.Add(n)
			if keepNodes {
				ws.nodes = append(ws.nodes, n)
			}
			return nil
		})
		ws.mu.Lock()
		ws.err = err
		ws.mu.Unlock()
	}
}

// StartManifest answers POST ?t=start-manifest&ophandle=H.
func (h *Handlers) StartManifest(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	ws, run := h.walkOp(c, true)
	origin := caps.Base32Encode(c.StorageIndex)
	status := func(output string, finished bool) (string, string) {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		if output == "json" {
			return "text/plain", deep.ManifestJSON(ws.nodes, &ws.stats, origin, finished)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "finished: %s\n", yesNo(finished))
		for _, n := range ws.nodes {
			fmt.Fprintf(&b, "%s %s\n", n.PathString(), n.Cap.String())
		}
		if output == "text" {
			return "text/plain", b.String()
		}
		return "text/html; charset=utf-8", "<!DOCTYPE html>\n<html><body><pre>" + html.EscapeString(b.String()) + "</pre></body></html>\n"
	}
	h.start(w, r, c, "start-manifest", run, status)
}

// StartDeepSize answers POST ?t=start-deep-size&ophandle=H.
func (h *Handlers) StartDeepSize(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	ws, run := h.walkOp(c, false)
	status := func(output string, finished bool) (string, string) {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		if output == "json" {
			return "text/plain", health.PyJSON(health.Object{{Key: "finished", Value: finished}, {Key: "size", Value: ws.stats.Object()}}, -1)
		}
		body := "finished: " + yesNo(finished) + "\n"
		if finished {
			body += fmt.Sprintf("size: %d\n", ws.stats.TotalSize())
		}
		return "text/plain", body
	}
	h.start(w, r, c, "start-deep-size", run, status)
}

// StartDeepStats answers POST ?t=start-deep-stats&ophandle=H; the status
// is always JSON.
func (h *Handlers) StartDeepStats(w http.ResponseWriter, r *http.Request, c *caps.Cap) {
	ws, run := h.walkOp(c, false)
	status := func(_ string, finished bool) (string, string) {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return "text/plain", ws.stats.JSON(finished)
	}
	h.start(w, r, c, "start-deep-stats", run, status)
}
