package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// HTTPClient makes the requests; nil for a client of this package's
	// own (its idle connections are closed by Store.Close).
	HTTPClient *http.Client
	// Timeout bounds each request that carries no file contents (t=json,
	// mkdir, link, unlink, the welcome page); 0 means DefaultTimeout.
	// Requests that carry contents (Upload, Download, CreateMutable,
	// OverwriteMutable, PutFile) are bounded by their context only, since
	// the node answers an upload only after it has placed every share.
	Timeout time.Duration
	// MaxJSON bounds a JSON or cap response; 0 means DefaultMaxJSON.
	MaxJSON int64
	// NodeDir is the node directory whose private/api_auth_token the
	// pages that want one are given ("" when there is none).
	NodeDir string
	// UserAgent is sent with every request; "" means DefaultUserAgent.
	UserAgent string
}

// Defaults for Options.
const (
	DefaultTimeout   = 5 * time.Minute
	DefaultMaxJSON   = 64 << 20
	DefaultUserAgent = "lafs (tahoe-client)"
	dialTimeout      = 10 * time.Second
	maxCapResponse   = 64 << 10
)

// Store is the gateway implementation of filestore.Store: a node's web
// API. It is safe for concurrent use.
type Store struct {
	opts    Options
	client  *http.Client
	ownHTTP bool

	// nodeURL yields the web API's base URL; it is called once, on the
	// first request.
	nodeURL func() (string, error)
	once    sync.Once
	base    *url.URL
	baseErr error

	tokenOnce sync.Once
	token     string
	tokenErr  error
}

// New returns a store for the web API at nodeURL (as node.url holds it:
// "http://127.0.0.1:3456/"). It does no I/O: the URL is checked on the
// first request.
func New(nodeURL string, o Options) *Store {
	return newStore(func() (string, error) { return nodeURL, nil }, o)
}

// NewFromNodeDir returns a store for the web API named by dir/node.url,
// which is read on the first request, not now (so opening costs nothing
// for a command that never reaches the grid). o.NodeDir defaults to dir.
func NewFromNodeDir(dir string, o Options) *Store {
	if o.NodeDir == "" {
		o.NodeDir = dir
	}
	return newStore(func() (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, "node.url"))
		if err != nil {
			return "", fmt.Errorf("reading the node's web API address: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}, o)
}

func newStore(nodeURL func() (string, error), o Options) *Store {
	s := &Store{opts: o, nodeURL: nodeURL, client: o.HTTPClient}
	if s.opts.Timeout <= 0 {
		s.opts.Timeout = DefaultTimeout
	}
	if s.opts.MaxJSON <= 0 {
		s.opts.MaxJSON = DefaultMaxJSON
	}
	if s.opts.UserAgent == "" {
		s.opts.UserAgent = DefaultUserAgent
	}
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // a node's web API is local; never send caps to a proxy
		tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
		s.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		s.ownHTTP = true
	}
	return s
}

// NodeURL returns the web API's base URL (with a trailing slash).
func (s *Store) NodeURL() (string, error) {
	u, err := s.baseURL()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

func (s *Store) baseURL() (*url.URL, error) {
	s.once.Do(func() {
		raw, err := s.nodeURL()
		if err != nil {
			s.baseErr = err
			return
		}
		s.base, s.baseErr = parseNodeURL(raw)
	})
	return s.base, s.baseErr
}

// parseNodeURL checks a node URL: http or https, a host, no query.
func parseNodeURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("node URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("node URL %q: the scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("node URL %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("node URL %q: want scheme://host:port/ only", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// Close closes the store's idle connections.
func (s *Store) Close() error {
	if s.ownHTTP {
		s.client.CloseIdleConnections()
	}
	return nil
}

// quote percent-encodes s as Python's urllib.parse.quote does with no
// safe characters beyond its own: everything but letters, digits and
// "_.-~". Tahoe's CLI quotes caps and path segments this way.
func quote(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// capPath is "uri/$CAP[/seg/seg...]" with every piece quoted; empty
// segments are dropped.
func capPath(c string, segments ...string) string {
	var b strings.Builder
	b.WriteString("uri/")
	b.WriteString(quote(c))
	for _, seg := range segments {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(quote(seg))
	}
	return b.String()
}

// splitPath splits a slash-separated path of child names, dropping empty
// ones.
func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "/") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// request is one web API call.
type request struct {
	op     string // for errors: what is being done, no caps
	method string
	path   string // below the node URL, already quoted
	query  string // already encoded, without '?'
	body   io.Reader
	size   int64 // body length; -1 for none
	// getBody rewinds the body for a retry on a fresh connection.
	getBody func() (io.ReadCloser, error)
	// stream: no overall timeout (contents of a file travel).
	stream bool
	header http.Header
}

// do sends a request and returns the response when its status is 2xx;
// any other status is a *StatusError. The caller closes the body; cancel
// must be called when done with it.
func (s *Store) do(ctx context.Context, r request) (*http.Response, context.CancelFunc, error) {
	base, err := s.baseURL()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.op, err)
	}
	parent := ctx
	var cancel context.CancelFunc
	if r.stream {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
	}
	full := base.String() + r.path
	if r.query != "" {
		full += "?" + r.query
	}
	req, err := http.NewRequestWithContext(ctx, r.method, full, r.body)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: building the request: %w", r.op, stripURL(err))
	}
	if r.body != nil {
		req.ContentLength = r.size
		req.GetBody = r.getBody
		if r.size == 0 {
			req.Body = http.NoBody
		}
	}
	// As Tahoe's CLI: errors come back as plain text, not HTML pages.
	req.Header.Set("Accept", "text/plain, application/octet-stream")
	req.Header.Set("User-Agent", s.opts.UserAgent)
	for k, v := range r.header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, s.transportError(parent, ctx, r.op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		cancel()
		se := newStatusError(r.op, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		if reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))); reason != "" {
			se.Reason = reason
		}
		return nil, nil, se
	}
	return resp, cancel, nil
}

// transportError describes a failed request without its URL (which
// holds caps): the node's base URL and the network error only. parent is
// the caller's context, ctx the request's (with Options.Timeout).
func (s *Store) transportError(parent, ctx context.Context, op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctxErr := parent.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: the node at %s did not answer within %v: %w", op, s.base.Redacted(), s.opts.Timeout, err)
	}
	return fmt.Errorf("%s: talking to the node at %s: %w", op, s.base.Redacted(), err)
}

// readAll reads a whole (bounded) response body.
func (s *Store) readAll(op string, resp *http.Response, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the response: %w", op, stripURL(err))
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: the node's response is larger than %d bytes", op, max)
	}
	return b, nil
}

func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// call makes a request with no file contents in its answer and returns
// the (bounded) body.
func (s *Store) call(ctx context.Context, r request, max int64) ([]byte, error) {
	resp, cancel, err := s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	return s.readAll(r.op, resp, max)
}

// capResponse parses a response body that is a cap (and nothing else
// but whitespace).
func capResponse(op string, body []byte) (*caps.Cap, error) {
	str := strings.TrimSpace(string(body))
	c, err := caps.Parse(str)
	if err != nil {
		return nil, fmt.Errorf("%s: the node answered with something that is not a cap: %w", op, err)
	}
	if c.IsUnknown() {
		return nil, fmt.Errorf("%s: the node answered with something that is not a cap of a known kind", op)
	}
	return c, nil
}

func bytesBody(b []byte) (io.Reader, int64, func() (io.ReadCloser, error)) {
	return bytes.NewReader(b), int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// childType is the t=json type for a child's cap.
func childType(capStr string) string {
	c, err := caps.Parse(capStr)
	switch {
	case err != nil || c.IsUnknown():
		return TypeUnknown
	case c.IsDirectory():
		return TypeDir
	}
	return TypeFile
}
