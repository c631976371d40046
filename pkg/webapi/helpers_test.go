package webapi

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedNow is the clock of test servers, so link metadata is stable.
var fixedNow = time.Unix(1764580000, 250000000)

// localStore is a direct store over a fresh embedded grid of 4 servers
// (2-of-4), with a fixed convergence secret so CHK caps are stable.
func localStore(t testing.TB) filestore.Store {
	t.Helper()
	g := localgridtest.New(t, localgridtest.Options{Servers: 4, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
		Convergence: []byte("webapi test convergence"), LeaseSecret: []byte("l")})
	return g.Store
}

// env is a Server on a real HTTP listener over a local-grid store.
type env struct {
	t     testing.TB
	store filestore.Store
	srv   *Server
	http  *httptest.Server
	log   *syncBuffer
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func newEnv(t testing.TB, tweak ...func(*Options)) *env {
	t.Helper()
	st := localStore(t)
	var logBuf syncBuffer
	o := Options{
		Store:     st,
		Node:      NodeInfo{Nickname: "test-node", NodeID: "v0-testnodeid", Version: "lafs/test"},
		TempDir:   t.TempDir(),
		AuthToken: func() string { return "sekrit-token" },
		Now:       func() time.Time { return fixedNow },
		Logger:    newTestLogger(&logBuf),
	}
	for _, f := range tweak {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return &env{t: t, store: st, srv: srv, http: hs, log: &logBuf}
}

// response is what a request got.
type response struct {
	code   int
	header http.Header
	body   string
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request; path is appended to the server's URL as it is.
func (e *env) do(method, path string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(path string, hdr ...string) response { return e.do("GET", path, nil, hdr...) }
func (e *env) put(path, body string) response {
	return e.do("PUT", path, strings.NewReader(body))
}
func (e *env) post(path, body string) response {
	return e.do("POST", path, strings.NewReader(body))
}

// must checks the status and returns the body.
func (r response) must(t testing.TB, code int) string {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body %q", r.code, code, trunc(r.body))
	}
	return r.body
}

// form posts a multipart form with a file field.
func (e *env) form(path string, fields map[string]string, fileName string, file []byte) response {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			e.t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	return e.do("POST", path, &b, "Content-Type", mw.FormDataContentType())
}

// u escapes a cap for a URL path.
func u(c string) string { return url.PathEscape(c) }

var capRE = regexp.MustCompile(`URI:[A-Za-z0-9-]+:[a-z2-7]+(:[a-z2-7]+)?(:[0-9]+:[0-9]+:[0-9]+)?`)

// normalize replaces each distinct cap by $CAPn (n in order of first
// appearance) so output with random mutable caps can be golden.
func normalize(s string) string {
	seen := map[string]string{}
	return capRE.ReplaceAllStringFunc(s, func(c string) string {
		if strings.HasPrefix(c, "URI:CHK:") || strings.HasPrefix(c, "URI:LIT:") || strings.HasPrefix(c, "URI:CHK-Verifier:") {
			return c // deterministic: convergent
		}
		if r, ok := seen[c]; ok {
			return r
		}
		r := "$CAP" + string(rune('A'+len(seen)))
		seen[c] = r
		return r
	})
}

// golden compares got with testdata/NAME, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// trunc shortens a body for a failure message.
func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
