package deepops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/webapi/deepops"
)

type fixture struct {
	grid      *localgridtest.Grid
	srv       *httptest.Server
	ops       *deepops.Table
	root, big *caps.Cap
}

// newFixture serves the handlers on a real HTTP server over an embedded
// grid holding root/{big (CHK), small (LIT), sub/{f (CHK)}} (immutable).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	g := localgridtest.New(t, localgridtest.Options{Servers: 5, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 5, MaxSegmentSize: 128 << 10},
		Convergence: []byte("web"), LeaseSecret: []byte("web")})
	s := g.Store
	up := func(n int, b byte) *caps.Cap {
		r, err := s.Upload(ctx, bytes.NewReader(bytes.Repeat([]byte{b}, n)), int64(n), filestore.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Cap
	}
	f := &fixture{grid: g, ops: deepops.NewTable(0, nil)}
	t.Cleanup(f.ops.Close)
	f.big = up(100_000, 'b')
	sub, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{client.EntryFor("f", up(3000, 'f'))}})
	if err != nil {
		t.Fatal(err)
	}
	if f.root, err = s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{
		client.EntryFor("big", f.big), client.EntryFor("small", up(9, 's')), client.EntryFor("sub", sub)}}); err != nil {
		t.Fatal(err)
	}
	h := &deepops.Handlers{Store: s, Checker: s, Ops: f.ops}
	mux := http.NewServeMux()
	mux.Handle("/operations/", f.ops)
	mux.HandleFunc("POST /uri/{cap}", func(w http.ResponseWriter, r *http.Request) {
		c, err := caps.Parse(r.PathValue("cap"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.URL.Query().Get("t") {
		case "check":
			h.Check(w, r, c)
		case "start-deep-check":
			h.StartDeepCheck(w, r, c)
		case "stream-deep-check":
			h.StreamDeepCheck(w, r, c)
		case "start-manifest":
			h.StartManifest(w, r, c)
		case "stream-manifest":
			h.StreamManifest(w, r, c)
		case "start-deep-size":
			h.StartDeepSize(w, r, c)
		case "start-deep-stats":
			h.StartDeepStats(w, r, c)
		default:
			http.Error(w, "bad t", http.StatusBadRequest)
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) post(t *testing.T, c *caps.Cap, query string) (*http.Response, string) {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Post(f.srv.URL+"/uri/"+url.PathEscape(c.String())+"?"+query, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) removeShares(t *testing.T, c *caps.Cap, n int) {
	t.Helper()
	f.grid.RemoveShares(t, c, n)
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, f.big, "t=check&output=JSON")
	r, err := health.ParseResults([]byte(body))
	if resp.StatusCode != 200 || err != nil || !r.Healthy || r.SharesGood != 5 || !strings.HasPrefix(body, "{\n \"storage-index\": ") {
		t.Fatalf("t=check: %d %v %s", resp.StatusCode, err, body)
	}
	lit, _ := caps.Parse("URI:LIT:nbswy3dp")
	if _, body := f.post(t, lit, "t=check&output=json"); body != "{\n \"storage-index\": \"\",\n \"results\": {\n  \"healthy\": true\n }\n}\n" {
		t.Errorf("LIT: %q", body)
	}
	f.removeShares(t, f.big, 2)
	_, body = f.post(t, f.big, "t=check&repair=true&verify=true&output=JSON")
	crr, err := health.ParseCheckAndRepair([]byte(body))
	if err != nil || !crr.RepairAttempted || !crr.RepairSuccessful || crr.Pre.SharesGood != 3 || crr.Post.SharesGood != 5 {
		t.Fatalf("repair: %v %s", err, body)
	}
	if resp, body := f.post(t, f.big, "t=check"); resp.StatusCode != 200 || !strings.Contains(body, "<pre>Summary: Healthy") {
		t.Errorf("HTML: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.post(t, f.big, "t=check&verify=maybe"); resp.StatusCode != 400 {
		t.Errorf("verify=maybe: %d", resp.StatusCode)
	}
}

func (f *fixture) waitDone(t *testing.T, handle string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !f.ops.Wait(ctx, handle) {
		t.Fatalf("no handle %s", handle)
	}
}

func TestSlowOperations(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.post(t, f.root, "t=start-deep-check&ophandle=dc1&output=JSON")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/operations/dc1?output=JSON" {
		t.Fatalf("start-deep-check: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	f.waitDone(t, "dc1")
	code, body := f.get(t, "/operations/dc1?t=status&output=JSON&release-after-complete=true")
	var dc map[string]any
	if err := json.Unmarshal([]byte(body), &dc); code != 200 || err != nil || dc["finished"] != true || dc["count-objects-checked"] != 4.0 || dc["count-objects-healthy"] != 4.0 {
		t.Fatalf("deep-check status: %d %v %s", code, err, body)
	}
	if code, _ := f.get(t, "/operations/dc1?output=JSON"); code != 404 {
		t.Errorf("released handle answered %d", code)
	}

	for _, tc := range []struct{ t, want string }{
		{"start-manifest", `"manifest": [`},
		{"start-deep-size", `{"finished": true, "size": {"api-version": 1,`},
		{"start-deep-stats", `"count-literal-files": 1,`},
	} {
		h := tc.t + "-h"
		if resp, _ := f.post(t, f.root, "t="+tc.t+"&ophandle="+h); resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: %d", tc.t, resp.StatusCode)
		}
		f.waitDone(t, h)
		code, body := f.get(t, "/operations/"+h+"?output=JSON")
		if code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s status: %d %s", tc.t, code, body)
		}
	}
	if _, body := f.get(t, "/operations/start-deep-size-h?output=text"); !strings.HasPrefix(body, "finished: yes\nsize: ") {
		t.Errorf("deep-size text: %q", body)
	}
	if resp, body := f.post(t, f.root, "t=start-deep-check"); resp.StatusCode != 400 || !strings.Contains(body, "requires ophandle=") {
		t.Errorf("no ophandle: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.post(t, f.root, "t=start-manifest&ophandle=start-manifest-h"); resp.StatusCode != http.StatusConflict {
		t.Errorf("handle reused: %d", resp.StatusCode)
	}
	if resp, _ := f.post(t, f.big, "t=start-deep-check&ophandle=file"); resp.StatusCode != 400 {
		t.Errorf("deep-check of a file: %d", resp.StatusCode)
	}
	// Cancel releases the handle.
	resp2, err := http.Post(f.srv.URL+"/operations/start-manifest-h?t=cancel", "text/plain", nil)
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("cancel: %v %v", resp2, err)
	}
	resp2.Body.Close()
	if code, _ := f.get(t, "/operations/start-manifest-h"); code != 404 {
		t.Errorf("cancelled handle answered %d", code)
	}
}

func TestStreams(t *testing.T) {
	f := newFixture(t)
	f.removeShares(t, f.big, 1)
	_, body := f.post(t, f.root, "t=stream-deep-check&repair=true")
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 6 || !strings.Contains(lines[1], `"check-and-repair-results": {"storage-index": "`) ||
		!strings.Contains(lines[1], `"repair-successful": true`) || !strings.HasPrefix(lines[5], `{"type": "stats"`) {
		t.Errorf("stream-deep-check:\n%s", body)
	}
	_, body = f.post(t, f.root, "t=stream-manifest")
	lines = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], `{"path": [], "cap": "URI:DIR2-CHK:`) {
		t.Errorf("stream-manifest:\n%s", body)
	}
	// A directory that cannot be read ends the stream with ERROR:.
	sub, _ := caps.Parse(strings.Split(strings.Split(lines[3], `"cap": "`)[1], `"`)[0])
	f.removeShares(t, sub, 5)
	_, body = f.post(t, f.root, "t=stream-manifest")
	if !strings.Contains(body, "\nERROR: sub: reading directory") {
		t.Errorf("stream-manifest of a broken tree:\n%s", body)
	}
}

func TestTableLifetimes(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tb := deepops.NewTable(2, clock)
	defer tb.Close()
	status := func(string, bool) (string, string) { return "text/plain", "ok" }
	release := make(chan struct{})
	if err := tb.Start("a", 0, func(ctx context.Context) {}, status); err != nil {
		t.Fatal(err)
	}
	if err := tb.Start("b", 0, func(ctx context.Context) { <-release }, status); err != nil {
		t.Fatal(err)
	}
	if err := tb.Start("c", 0, func(context.Context) {}, status); err == nil {
		t.Error("a third handle fitted in a table of two")
	}
	tb.Wait(context.Background(), "a")
	srv := httptest.NewServer(tb)
	defer srv.Close()
	get := func(h string) int {
		resp, err := http.Get(srv.URL + "/operations/" + h)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	advance(3 * 24 * time.Hour)
	if get("a") != 200 { // uncollected: four days; this GET collects it (one day)
		t.Fatal("handle a expired early")
	}
	advance(25 * time.Hour)
	if get("a") != 404 {
		t.Error("collected handle a outlived a day")
	}
	advance(30 * 24 * time.Hour)
	if get("b") != 200 {
		t.Error("running handle b expired")
	}
	close(release)
	tb.Wait(context.Background(), "b")
	if err := tb.Start("c", time.Minute, func(context.Context) {}, status); err != nil {
		t.Fatalf("after a expired there is room: %v", err)
	}
	advance(2 * time.Minute)
	if get("c") != 404 {
		t.Error("retain-for=60 handle outlived its minute")
	}
}

func TestCheckLiteralWithRepair(t *testing.T) {
	f := newFixture(t)
	lit, _ := caps.Parse("URI:LIT:nbswy3dp")
	if _, body := f.post(t, lit, "t=check&repair=true&output=JSON"); body != health.Literal().JSON() {
		t.Errorf("LIT with repair=true: %q", body)
	}
}
