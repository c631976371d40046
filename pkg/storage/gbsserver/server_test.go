package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

const testSwissnum = "swissnumswissnumswissnumswissnum"

type gbsTest struct {
	t     *testing.T
	srv   *httptest.Server
	local *Local
}

// newGBSTest serves a fresh store over real TLS on 127.0.0.1.
func newGBSTest(t *testing.T, opts LocalOptions) *gbsTest {
	t.Helper()
	store, err := OpenDiskStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	local := NewLocal(store, opts)
	srv := httptest.NewUnstartedServer(NewHTTPServer(local, testSwissnum, HTTPOptions{}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &gbsTest{t: t, srv: srv, local: local}
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
	g := newGBSTest(t, LocalOptions{ApplicationVersion: "lafs-x"})
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
	v1, ok := top[cbor.ByteString(versionV1Key)].(map[any]any)
	if !ok {
		t.Fatalf("no byte-string key %q: %v", versionV1Key, top)
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
	if err != nil || string(v.ApplicationVersion) != "lafs-x" || v.MaximumMutableShareSize != maxMutableShareSize {
		t.Fatalf("UnmarshalVersion: %+v %v", v, err)
	}
}

func TestShapesAndStatuses(t *testing.T) {
	g := newGBSTest(t, LocalOptions{})
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
	rtw := ReadTestWriteRequest{
		TestWriteVectors: map[uint64]TestWriteVectors{3: {Test: []TestVector{{0, 1, []byte{}}}, Write: []WriteVector{{0, []byte("xxxxxxxxxx")}}, NewLength: &ten}},
		ReadVector:       []ReadVector{},
	}
	resp, body = g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, mustCBOR(t, rtw))
	var rtwRes map[string]any
	if resp.StatusCode != 200 || cbor.Unmarshal(body, &rtwRes) != nil || rtwRes["success"] != true {
		t.Fatalf("read-test-write: %d %x", resp.StatusCode, body)
	}
	if _, ok := rtwRes["data"].(map[any]any); !ok || len(rtwRes) != 2 {
		t.Fatalf("read-test-write response shape: %v", rtwRes)
	}
	rtw.ReadVector = []ReadVector{{Offset: 2, Size: 100}}
	resp, body = g.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", mh, mustCBOR(t, rtw))
	var rtwRes2 ReadTestWriteResult
	if resp.StatusCode != 200 || UnmarshalCBOR(body, &rtwRes2) != nil || rtwRes2.Success || string(rtwRes2.Data[3][0]) != "xxxxxxxx" {
		t.Fatalf("second read-test-write: %d %+v", resp.StatusCode, rtwRes2)
	}
	resp, body = g.do("GET", "/storage/v1/mutable/"+si2+"/3", hdr{"Range": {"bytes=0-16"}}, nil)
	if resp.StatusCode != 206 || string(body) != "xxxxxxxxxx" || resp.Header.Get("Content-Range") != "bytes 0-9/10" {
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
	g := newGBSTest(t, LocalOptions{})
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
		{"wrong write enabler length", "POST", "/storage/v1/mutable/" + si1 + "/read-test-write", hdr{"X-Tahoe-Authorization": {"write-enabler " + b64([]byte("x")), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32)}}, mustCBOR(t, ReadTestWriteRequest{}), 400},
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
	g := newGBSTest(t, LocalOptions{})
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
		if got := negotiate(tc.accept); got != tc.want {
			t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
		}
	}
}

// TestReservedSpace: allocations that would eat into reserved space are
// refused, and version reports the space left.
func TestReservedSpace(t *testing.T) {
	store, err := OpenDiskStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	free, err := store.FreeSpace()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{ReservedSpace: free - (10 << 20)})
	ctx := context.Background()
	v, _ := l.Version(ctx)
	if v.AvailableSpace > 11<<20 {
		t.Fatalf("available %d with all but 10 MiB reserved", v.AvailableSpace)
	}
	var si StorageIndex
	res, err := l.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0, 1, 2}, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Allocated) > 2 {
		t.Fatalf("allocated %v beyond the reservation", res.Allocated)
	}
	all := NewLocal(store, LocalOptions{ReservedSpace: free * 2})
	si[0] = 1
	if res, _ := all.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, 1); len(res.Allocated) != 0 {
		t.Fatalf("allocated with everything reserved")
	}
	ro := NewLocal(store, LocalOptions{ReadOnly: true})
	si[0] = 2
	if res, _ := ro.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, 1); len(res.Allocated) != 0 {
		t.Fatalf("read-only server allocated")
	}
}

// TestJSONReadTestWrite sends the spec's mutable example as JSON (bytes as
// base64) and reads the JSON answer.
func TestJSONReadTestWrite(t *testing.T) {
	g := newGBSTest(t, LocalOptions{})
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
	store, err := OpenDiskStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingHandler{}
	srv := httptest.NewUnstartedServer(NewHTTPServer(NewLocal(store, LocalOptions{}), testSwissnum, HTTPOptions{Logger: slog.New(rec)}))
	srv.StartTLS()
	defer srv.Close()
	g := &gbsTest{t: t, srv: srv}
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
