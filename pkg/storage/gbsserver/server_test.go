package gbsserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	. "github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

const testSwissnum = "swissnumswissnumswissnumswissnum"

type gbsTest struct {
	t     *testing.T
	srv   *httptest.Server
	store *shares.Store
	// plain: the server sees only storage.Server, so a full ranged read
	// cannot say the share's length (Content-Range ".../*").
	plain bool
}

// serverKinds are the servers every protocol test runs against: the share
// store over each backend, and the store seen only through the plain
// storage.Server interface (no ChunkWriter or ShareOpener), which the
// server must serve just the same.
var serverKinds = []struct {
	name  string
	open  func(t *testing.T) backend.Backend
	plain bool
}{
	{"disk", openDisk, false},
	{"mem", openMem, false},
	{"plain", openMem, true},
}

func openDisk(t *testing.T) backend.Backend {
	b, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openMem(t *testing.T) backend.Backend { return mem.New(mem.Options{Capacity: 1 << 40}) }

// plainServer hides the store's optional interfaces.
type plainServer struct{ storage.Server }

// forEachServer runs fn as a subtest per server kind.
func forEachServer(t *testing.T, fn func(t *testing.T, newGBS func(t *testing.T, opts shares.Options) *gbsTest)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			fn(t, func(t *testing.T, opts shares.Options) *gbsTest {
				return newGBSTestOver(t, k.open(t), k.plain, opts, gbsserver.Options{})
			})
		})
	}
}

// newGBSTestOver serves a fresh store over real TLS on 127.0.0.1.
func newGBSTestOver(t *testing.T, b backend.Backend, plain bool, opts shares.Options, sopts gbsserver.Options) *gbsTest {
	t.Helper()
	store := shares.New(b, opts)
	t.Cleanup(func() { store.Close() })
	var srv storage.Server = store
	if plain {
		srv = plainServer{store}
	}
	ts := httptest.NewUnstartedServer(gbsserver.New(srv, testSwissnum, sopts))
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &gbsTest{t: t, srv: ts, store: store, plain: plain}
}

type hdr map[string][]string

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func (g *gbsTest) do(method, path string, h hdr, body []byte) (*http.Response, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", AuthorizationHeader(testSwissnum))
	for k, vs := range h {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp, b
}

var (
	renew32  = bytes.Repeat([]byte{1}, 32)
	cancel32 = bytes.Repeat([]byte{2}, 32)
	we32     = bytes.Repeat([]byte{3}, 32)
)

func allocHeaders(upload string) hdr {
	return hdr{"X-Tahoe-Authorization": {
		"lease-renew-secret " + b64(renew32),
		"lease-cancel-secret " + b64(cancel32),
		"upload-secret " + b64([]byte(upload)),
	}}
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := MarshalCBOR(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	si1 = "aaaaaaaaaaaaaaaaaaaaaaaaaa"
	si2 = "baaaaaaaaaaaaaaaaaaaaaaaaa"
)

// TestVersionShape checks the version message field by field against the
// spec's CDDL: byte-string keys, the three v1 fields, application-version.
func TestVersionShape(t *testing.T) {
	forEachServer(t, func(t *testing.T, newGBSTest func(*testing.T, shares.Options) *gbsTest) {
		g := newGBSTest(t, shares.Options{ApplicationVersion: "lafs-x"})
		testVersionShape(t, g)
	})
}

func testVersionShape(t *testing.T, g *gbsTest) {
	resp, body := g.do("GET", "/storage/v1/version", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MediaCBOR {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var top map[any]any
	if err := cbor.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 2 {
		t.Fatalf("version has %d fields", len(top))
	}
	v1, ok := top[cbor.ByteString(VersionV1Key)].(map[any]any)
	if !ok {
		t.Fatalf("no byte-string key %q: %v", VersionV1Key, top)
	}
	for _, k := range []string{"maximum-immutable-share-size", "maximum-mutable-share-size", "available-space"} {
		if _, ok := v1[cbor.ByteString(k)].(uint64); !ok {
			t.Errorf("v1 field %q missing or not uint: %v", k, v1)
		}
	}
	if len(v1) != 3 {
		t.Errorf("v1 has %d fields, want 3", len(v1))
	}
	if av, ok := top[cbor.ByteString("application-version")].([]byte); !ok || string(av) != "lafs-x" {
		t.Errorf("application-version %v", top[cbor.ByteString("application-version")])
	}
	// The parser used by the client reads it back.
	v, err := UnmarshalVersion(body)
	if err != nil || string(v.ApplicationVersion) != "lafs-x" || v.MaximumMutableShareSize != shares.MaxMutableShareSize {
		t.Fatalf("UnmarshalVersion: %+v %v", v, err)
	}
}

func TestShapesAndStatuses(t *testing.T) {
	forEachServer(t, func(t *testing.T, newGBSTest func(*testing.T, shares.Options) *gbsTest) {
		g := newGBSTest(t, shares.Options{})
		testShapesAndStatuses(t, g)
	})
}

func testShapesAndStatuses(t *testing.T, g *gbsTest) {
	// Allocate: sets are tag 258.
	resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("u1"),
		mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{1, 7}, AllocatedSize: 48}))
	if resp.StatusCode != 200 {
		t.Fatalf("allocate: %d %s", resp.StatusCode, body)
	}
	var alloc map[string]cbor.RawTag
	if err := cbor.Unmarshal(body, &alloc); err != nil {
		t.Fatal(err)
	}
	if len(alloc) != 2 || alloc["already-have"].Number != 258 || alloc["allocated"].Number != 258 {
		t.Fatalf("allocate response shape: %v", alloc)
	}
	var allocated []uint64
	cbor.Unmarshal(alloc["allocated"].Content, &allocated)
	if len(allocated) != 2 {
		t.Fatalf("allocated %v", allocated)
	}

	up := hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u1"))}}
	patch := func(rng string, data []byte) (*http.Response, []byte) {
		h := hdr{"Content-Range": {rng}}
		for k, v := range up {
			h[k] = v
		}
		return g.do("PATCH", "/storage/v1/immutable/"+si1+"/7", h, data)
	}
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL")
	resp, body = patch("bytes 0-15/48", data[:16])
	var wr map[string][]map[string]uint64
	if resp.StatusCode != 200 || cbor.Unmarshal(body, &wr) != nil || len(wr["required"]) != 1 || wr["required"][0]["begin"] != 16 || wr["required"][0]["end"] != 48 {
		t.Fatalf("first chunk: %d %x", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name string
		rng  string
		data []byte
		want int
	}{
		{"same bytes again", "bytes 0-15/48", data[:16], 200},
		{"conflicting bytes", "bytes 8-15/*", []byte("XXXXXXXX"), 409},
		{"beyond the allocation", "bytes 40-55/*", make([]byte, 16), 413},
		{"bad content-range", "bytes 5-1/*", data[:4], 416},
		{"no content-range", "", data[:4], 416},
		{"body shorter than range", "bytes 16-31/*", data[16:20], 400},
		{"second chunk", "bytes 16-31/48", data[16:32], 200},
		{"final chunk", "bytes 32-47/48", data[32:48], 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := patch(tc.rng, tc.data)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
	// List: a bare tag-258 set.
	resp, body = g.do("GET", "/storage/v1/immutable/"+si1+"/shares", nil, nil)
	var list cbor.RawTag
	if resp.StatusCode != 200 || cbor.Unmarshal(body, &list) != nil || list.Number != 258 {
		t.Fatalf("list shares: %d %x", resp.StatusCode, body)
	}
	// Reads.
	for _, tc := range []struct {
		name, rng string
		want      int
		body, cr  string
	}{
		{"whole", "", 200, string(data[:48]), ""},
		{"range", "bytes=0-15", 206, string(data[:16]), "bytes 0-15/48"},
		{"past the end", "bytes=40-99", 206, string(data[40:48]), "bytes 40-47/48"},
		{"starting past the end", "bytes=48-60", 204, "", ""},
		{"open-ended", "bytes=5-", 416, "", ""},
		{"two ranges", "bytes=0-1,4-5", 416, "", ""},
		{"not bytes", "items=0-1", 416, "", ""},
	} {
		t.Run("read "+tc.name, func(t *testing.T) {
			h := hdr{}
			if tc.rng != "" {
				h["Range"] = []string{tc.rng}
			}
			resp, body := g.do("GET", "/storage/v1/immutable/"+si1+"/7", h, nil)
			if g.plain && tc.name == "range" {
				tc.cr = "bytes 0-15/*"
			}
			if resp.StatusCode != tc.want || (tc.want < 300 && string(body) != tc.body) || resp.Header.Get("Content-Range") != tc.cr {
				t.Fatalf("status %d body %q content-range %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
			}
		})
	}
	// Mutable read-test-write shapes.
	mh := hdr{"X-Tahoe-Authorization": {
		"write-enabler " + b64(we32), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32),
	}}
	ten := uint64(10)
	rtw := storage.ReadTestWriteRequest{
		TestWriteVectors: map[uint64]storage.TestWriteVectors{3: {Test: []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}}, Write: []storage.WriteVector{{Offset: 0, Data: []byte("xxxxxxxxxx")}}, NewLength: &ten}},
		ReadVector:       []storage.ReadVector{},
	}
	resp, body = g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, mustCBOR(t, rtw))
	var rtwRes map[string]any
	if resp.StatusCode != 200 || cbor.Unmarshal(body, &rtwRes) != nil || rtwRes["success"] != true {
		t.Fatalf("read-test-write: %d %x", resp.StatusCode, body)
	}
	if _, ok := rtwRes["data"].(map[any]any); !ok || len(rtwRes) != 2 {
		t.Fatalf("read-test-write response shape: %v", rtwRes)
	}
	rtw.ReadVector = []storage.ReadVector{{Offset: 2, Size: 100}}
	resp, body = g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, mustCBOR(t, rtw))
	var rtwRes2 storage.ReadTestWriteResult
	if resp.StatusCode != 200 || UnmarshalCBOR(body, &rtwRes2) != nil || rtwRes2.Success || string(rtwRes2.Data[3][0]) != "xxxxxxxx" {
		t.Fatalf("second read-test-write: %d %+v", resp.StatusCode, rtwRes2)
	}
	resp, body = g.do("GET", "/storage/v1/mutable/"+si2+"/3", hdr{"Range": {"bytes=0-16"}}, nil)
	if resp.StatusCode != 206 || string(body) != "xxxxxxxxxx" || resp.Header.Get("Content-Range") != "bytes 0-9/10" && !(g.plain && resp.Header.Get("Content-Range") == "bytes 0-9/*") {
		t.Fatalf("mutable read: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, _ = g.do("PUT", "/storage/v1/lease/"+si1, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64(renew32), "lease-cancel-secret " + b64(cancel32)}}, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("lease: %d", resp.StatusCode)
	}
	resp, _ = g.do("POST", "/storage/v1/immutable/"+si1+"/7/corrupt", nil, mustCBOR(t, CorruptRequest{Reason: "bad hash"}))
	if resp.StatusCode != 200 {
		t.Fatalf("corrupt advisory: %d", resp.StatusCode)
	}
}

func TestAuthAndSecrets(t *testing.T) {
	forEachServer(t, func(t *testing.T, newGBSTest func(*testing.T, shares.Options) *gbsTest) {
		g := newGBSTest(t, shares.Options{})
		testAuthAndSecrets(t, g)
	})
}

func testAuthAndSecrets(t *testing.T, g *gbsTest) {
	alloc := mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{1}, AllocatedSize: 10})
	path := "/storage/v1/immutable/" + si1
	for _, tc := range []struct {
		name   string
		method string
		path   string
		h      hdr
		body   []byte
		want   int
	}{
		{"no authorization", "GET", "/storage/v1/version", hdr{"Authorization": {}}, nil, 401},
		{"wrong swissnum", "GET", "/storage/v1/version", hdr{"Authorization": {AuthorizationHeader("wrong")}}, nil, 401},
		{"wrong scheme", "GET", "/storage/v1/version", hdr{"Authorization": {"Basic " + b64([]byte(testSwissnum))}}, nil, 401},
		{"missing secrets", "POST", path, nil, alloc, 400},
		{"short lease secret", "POST", path, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64([]byte("short")), "lease-cancel-secret " + b64(cancel32), "upload-secret " + b64([]byte("u"))}}, alloc, 400},
		{"unknown secret kind", "POST", path, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64(renew32), "lease-cancel-secret " + b64(cancel32), "upload-secret " + b64([]byte("u")), "bogus " + b64([]byte("x"))}}, alloc, 400},
		{"bad base64", "POST", path, hdr{"X-Tahoe-Authorization": {"lease-renew-secret !!!", "lease-cancel-secret " + b64(cancel32), "upload-secret " + b64([]byte("u"))}}, alloc, 400},
		{"unsupported content type", "POST", path, hdr{"X-Tahoe-Authorization": allocHeaders("u")["X-Tahoe-Authorization"], "Content-Type": {"text/plain"}}, alloc, 415},
		{"garbage CBOR", "POST", path, allocHeaders("u"), []byte{0xff, 0x00}, 400},
		{"body too large", "POST", path, allocHeaders("u"), make([]byte, 9000), 413},
		{"not acceptable", "GET", "/storage/v1/version", hdr{"Accept": {"text/html"}}, nil, 406},
		{"bad storage index", "GET", "/storage/v1/immutable/xyz/1", nil, nil, 404},
		{"wrong write enabler length", "POST", "/storage/v1/mutable/" + si1 + "/read-test-write", hdr{"X-Tahoe-Authorization": {"write-enabler " + b64([]byte("x")), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32)}}, mustCBOR(t, storage.ReadTestWriteRequest{}), 400},
		{"lease on nothing", "PUT", "/storage/v1/lease/" + si1, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64(renew32), "lease-cancel-secret " + b64(cancel32)}}, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do(tc.method, tc.path, tc.h, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
}

func TestJSONNegotiation(t *testing.T) {
	forEachServer(t, func(t *testing.T, newGBSTest func(*testing.T, shares.Options) *gbsTest) {
		g := newGBSTest(t, shares.Options{})
		testJSONNegotiation(t, g)
	})
}

func testJSONNegotiation(t *testing.T, g *gbsTest) {
	resp, body := g.do("POST", "/storage/v1/immutable/"+si1,
		hdr{"X-Tahoe-Authorization": allocHeaders("u")["X-Tahoe-Authorization"], "Content-Type": {MediaJSON}, "Accept": {"application/json"}},
		[]byte(`{"share-numbers": [1, 7], "allocated-size": 48}`))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MediaJSON {
		t.Fatalf("JSON allocate: %d %s", resp.StatusCode, body)
	}
	var got map[string][]int
	if err := json.Unmarshal(body, &got); err != nil || len(got["allocated"]) != 2 || got["already-have"] == nil {
		t.Fatalf("JSON allocate response %s", body)
	}
	for _, tc := range []struct{ accept, want string }{
		{"", MediaCBOR},
		{"*/*", MediaCBOR},
		{"application/json, application/cbor;q=0.5", MediaJSON},
		{"application/cbor, application/json", MediaCBOR},
		{"text/html, application/*;q=0.1", MediaCBOR},
		{"text/html", ""},
		{"*/*, application/cbor;q=0", MediaJSON},
		{"application/cbor;q=0, */*", MediaJSON},
		{"application/json;q=0.9, application/*;q=0.5", MediaJSON},
	} {
		if got := Negotiate(tc.accept); got != tc.want {
			t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
		}
	}
}

// TestJSONReadTestWrite sends the spec's mutable example as JSON (bytes as
// base64) and reads the JSON answer.
func TestJSONReadTestWrite(t *testing.T) {
	forEachServer(t, func(t *testing.T, newGBSTest func(*testing.T, shares.Options) *gbsTest) {
		g := newGBSTest(t, shares.Options{})
		testJSONReadTestWrite(t, g)
	})
}

func testJSONReadTestWrite(t *testing.T, g *gbsTest) {
	mh := hdr{
		"X-Tahoe-Authorization": {"write-enabler " + b64(we32), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32)},
		"Content-Type":          {MediaJSON},
		"Accept":                {MediaJSON},
	}
	body := `{"test-write-vectors": {"3": {"test": [{"offset": 0, "size": 1, "specimen": ""}],
		"write": [{"offset": 0, "data": "` + b64([]byte("xxxxxxxxxx")) + `"}], "new-length": 10}},
		"read-vector": [{"offset": 3, "size": 12}]}`
	resp, out := g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, []byte(body))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MediaJSON {
		t.Fatalf("JSON read-test-write: %d %s", resp.StatusCode, out)
	}
	var res struct {
		Success bool                `json:"success"`
		Data    map[string][]string `json:"data"`
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.Success {
		t.Fatalf("response %s (%v)", out, err)
	}
	resp, out = g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, []byte(body))
	if err := json.Unmarshal(out, &res); err != nil || res.Success || res.Data["3"][0] != b64([]byte("xxxxxxx")) {
		t.Fatalf("second response %d %s (%v)", resp.StatusCode, out, err)
	}
}

type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

// TestRequestLog: one debug-level line per request, nothing above debug.
func TestRequestLog(t *testing.T) {
	rec := &recordingHandler{}
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{Logger: slog.New(rec)})
	g.do("GET", "/storage/v1/version", nil, nil)
	g.do("GET", "/storage/v1/version", hdr{"Authorization": {"wrong"}}, nil)
	g.do("GET", "/storage/v1/immutable/"+si1+"/shares", nil, nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.records) != 3 {
		t.Fatalf("%d log records for 3 requests", len(rec.records))
	}
	for _, r := range rec.records {
		if r.Level != slog.LevelDebug {
			t.Errorf("request logged at %v: %s", r.Level, r.Message)
		}
	}
}

func newLogger(h slog.Handler) *slog.Logger { return slog.New(h) }

// recordText renders a record's message and attributes.
func recordText(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	return b.String()
}
