package webapi

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lafs/lafs/pkg/filestore"
)

// Defaults for Options' bounds.
const (
	DefaultMaxMutableSize = 64 << 20 // a mutable file's contents, held in memory
	DefaultMaxJSONBody    = 16 << 20 // set_children and mkdir-with-children bodies
	DefaultStatusTimeout  = 5 * time.Second
)

// NodeInfo describes the node the web API belongs to, for its welcome page.
type NodeInfo struct {
	// Nickname is [node] nickname.
	Nickname string
	// NodeID is the node's long id as Tahoe's welcome page shows it ("v0-…"
	// or a base32 tub id); "" when the node has none.
	NodeID string
	// Version is this software's application version ("lafs/0.1.0").
	Version string
	// Storage, when the node also stores shares, reports its own storage
	// server; nil for a client-only node.
	Storage func(ctx context.Context) (*StorageStatus, error)
}

// StorageStatus is the node's own storage server, as the welcome page's
// JSON reports it (the dev-chat's #2476).
type StorageStatus struct {
	NodeID                   string
	Nickname                 string
	AcceptingImmutableShares bool
	// AvailableSpace is nil when unknown.
	AvailableSpace *uint64
	Version        string
}

// Options configure a Server.
type Options struct {
	// Store is the file store the web API serves. Required.
	Store filestore.Store
	// Node describes the node for its welcome page.
	Node NodeInfo
	// TempDir holds spooled request bodies ([node] tempdir, the node
	// directory's tmp/); "" is the system's.
	TempDir string
	// AuthToken returns private/api_auth_token's value; /private/ refuses
	// every request when it is nil.
	AuthToken func() string
	// MutableFormat is the default format of new mutable files and
	// directories ([client] mutable.format): FormatSDMF when zero.
	MutableFormat filestore.Format
	// MaxMutableSize bounds a mutable file's contents (held in memory);
	// DefaultMaxMutableSize when zero.
	MaxMutableSize int64
	// MaxJSONBody bounds JSON request bodies; DefaultMaxJSONBody when zero.
	MaxJSONBody int64
	// StatusTimeout bounds how long the welcome page waits for any one
	// storage server; DefaultStatusTimeout when zero.
	StatusTimeout time.Duration
	// Logger receives one record per request (method, status, size and the
	// path with every cap and secret censored); discarded when nil.
	Logger *slog.Logger
	// Now is the clock for link metadata; time.Now when nil.
	Now func() time.Time
}

// Server is Tahoe-LAFS's web API over a filestore.Store: an http.Handler.
// Create it with New and Close it when done (it stops the operation
// handles' timers).
type Server struct {
	o       Options
	store   filestore.Store // o.Store, its operations recorded in hist
	tempDir string
	log     *slog.Logger
	ops     *opTable
	started time.Time
	stats   counters
	hist    *history
	locks   objectLocks
	// idle, when set, drops a client that sends or takes nothing for
	// that long (per read and write, so large transfers are not cut).
	idle time.Duration
}

// counters are the node statistics /statistics reports.
type counters struct {
	filesUploaded, bytesUploaded     atomic.Int64
	filesDownloaded, bytesDownloaded atomic.Int64
	filesPublished, bytesPublished   atomic.Int64
	filesRetrieved, bytesRetrieved   atomic.Int64
}

// New makes a Server.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("webapi: no store")
	}
	if o.MaxMutableSize <= 0 {
		o.MaxMutableSize = DefaultMaxMutableSize
	}
	if o.MaxJSONBody <= 0 {
		o.MaxJSONBody = DefaultMaxJSONBody
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = DefaultStatusTimeout
	}
	if o.MutableFormat == filestore.FormatDefault {
		o.MutableFormat = filestore.FormatSDMF
	}
	if !o.MutableFormat.Mutable() {
		return nil, errors.New("webapi: the default mutable format must be SDMF or MDMF")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := o.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	hist := newHistory(o.Now)
	return &Server{o: o, store: hist.wrap(o.Store), hist: hist, tempDir: dir, log: log, ops: newOpTable(), started: o.Now()}, nil
}

// Close releases the operation handles. It does not close the Store.
func (s *Server) Close() error {
	s.ops.close()
	return nil
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	n     int64
	wrote bool
	rc    *http.ResponseController
	idle  time.Duration
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	if w.idle > 0 {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Flush passes flushes through (streamed operations).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw, idle: s.idle}
	if s.idle > 0 {
		w.rc = http.NewResponseController(rw)
		// A request with no body has none to stall in; and net/http is
		// already reading its connection in the background, where a read
		// deadline set now would end the request's context mid-handler.
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			r.Body = &idleReader{r: r.Body, rc: w.rc, idle: s.idle}
		}
	}
	start := time.Now()
	defer func() {
		s.log.Info("web", "client", r.RemoteAddr, "method", r.Method, "uri", CensorURI(r.URL),
			"code", w.code, "length", w.n, "duration", time.Since(start))
	}()
	// Tahoe's site-wide policy (webish._tahoeLAFSSecurityPolicy).
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")

	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, asPage(err))
		return
	}
	q, err := s.newRequest(w, r)
	defer q.close()
	if err != nil {
		writeError(w, err)
		return
	}
	// Twisted's root answers an empty segment with itself: //uri is /uri.
	for len(segs) > 1 && segs[0] == "" {
		segs = segs[1:]
	}
	q.prefix = segs[0]
	if err := s.route(q, segs); err != nil {
		if errors.Is(err, errAborted) {
			panic(http.ErrAbortHandler)
		}
		writeError(w, err)
	}
}

// idleReader extends the connection's read deadline before each read of
// a request body.
type idleReader struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool // the body has ended (or failed): no more deadlines
}

func (r *idleReader) Read(p []byte) (int, error) {
	// net/http clears the deadline itself once the body is complete and
	// starts its background read of the connection, so a long processing
	// of a request (a big upload) is not cut; a stalled body keeps its
	// expired deadline and the connection is dropped. Once the body has
	// ended no deadline is set again: it would end that background read,
	// and with it the request's context.
	if r.done {
		return r.r.Read(p)
	}
	_ = r.rc.SetReadDeadline(time.Now().Add(r.idle))
	n, err := r.r.Read(p)
	if err != nil {
		r.done = true
	}
	return n, err
}

func (r *idleReader) Close() error { return r.r.Close() }

// redirectTo answers a 302 to target (a path on this server, made
// absolute as Twisted's request.redirect does) with Twisted's redirect
// page.
func redirectTo(q *request, target string) { redirect(q, target, true) }

// redirect answers Twisted's 302 to target, made absolute when absolute
// (Twisted's Redirect resource sends the path as it is).
func redirect(q *request, target string, absolute bool) {
	if absolute && strings.HasPrefix(target, "/") {
		scheme := "http"
		if q.r.TLS != nil {
			scheme = "https"
		}
		target = scheme + "://" + q.r.Host + target
	}
	esc := html.EscapeString(target)
	body := "\n<html>\n    <head>\n        <meta http-equiv=\"refresh\" content=\"0;URL=" + esc + "\">\n    </head>\n    <body bgcolor=\"#FFFFFF\" text=\"#000000\">\n    <a href=\"" + esc + "\">click here</a>\n    </body>\n</html>\n"
	h := q.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Location", target)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(http.StatusFound)
	if q.r.Method != http.MethodHead {
		_, _ = io.WriteString(q.w, body)
	}
}

// errAborted means a response was cut short after its headers went out;
// the connection is dropped so the client sees it incomplete.
var errAborted = errors.New("response aborted")

// splitPath splits an escaped URL path into its unescaped segments,
// without the leading slash ("/" is one empty segment).
func splitPath(escaped string) ([]string, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	raw := strings.Split(escaped, "/")
	out := make([]string, len(raw))
	for i, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, badRequest("malformed URL path segment")
		}
		out[i] = u
	}
	return out, nil
}

// route dispatches on the first path segment.
func (s *Server) route(q *request, segs []string) error {
	switch segs[0] {
	case "":
		if len(segs) > 1 {
			return notFound()
		}
		return s.serveWelcome(q)
	case "uri", "cap":
		return s.serveURI(q, segs[1:])
	case "named", "file":
		return s.serveNamed(q, segs[1:])
	case "status":
		return s.serveStatus(q, segs[1:])
	case "statistics":
		return s.serveStatistics(q, segs[1:])
	case "operations":
		return s.serveOperations(q, segs[1:])
	case "private":
		return s.servePrivate(q, segs[1:])
	case "storage":
		return s.serveStorage(q, segs[1:])
	case "helper_status":
		return s.serveHelperStatus(q)
	}
	return notFound()
}

// notFound is Twisted's NoResource.
func notFound() error {
	return &webError{code: http.StatusNotFound, text: "Sorry. No luck finding that resource.", page: true, brief: "No Such Resource"}
}

// methodNotAllowed is Twisted's answer to a method a resource lacks.
func methodNotAllowed(q *request, allowed ...string) error {
	q.w.Header().Set("Allow", strings.Join(allowed, ", "))
	return &webError{code: http.StatusMethodNotAllowed, page: true, brief: "Method Not Allowed",
		text: "Your browser approached me (at " + "this resource" + ") with the method \"" + q.r.Method + "\".  I only allow the method" + plural(len(allowed)) + " " + strings.Join(allowed, ", ") + " here."}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// CensorURI renders a request URI for a log, as Tahoe's access log does,
// and stricter: everything below /uri/, /cap/, /file/, /named/,
// /operations/ and /private/ becomes [CENSORED] (caps, paths, handles),
// and so does the value of every query argument that is not a plain
// option (uri=, name=, private-key=, when_done= ...).
func CensorURI(u *url.URL) string {
	p := u.EscapedPath()
	for _, pre := range []string{"/uri/", "/cap/", "/file/", "/named/", "/operations/", "/private/"} {
		if strings.HasPrefix(p, pre) {
			p = pre + "[CENSORED]"
			break
		}
	}
	if u.RawQuery == "" {
		return p
	}
	var parts []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, _, hasEq := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		switch {
		case err != nil:
			parts = append(parts, "[CENSORED]")
		case safeArg(key) || !hasEq:
			parts = append(parts, kv)
		default:
			parts = append(parts, k+"=[CENSORED]")
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// safeArg reports whether a query argument's value carries no cap, name
// or secret.
func safeArg(key string) bool {
	switch key {
	case "t", "format", "mutable", "replace", "output", "verify", "repair", "add-lease", "overwrite",
		"save", "redirect_to_result", "release-after-complete", "retain-for", "offset", "_charset":
		return true
	}
	return false
}
