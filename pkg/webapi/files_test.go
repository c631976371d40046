package webapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

// bigFile is larger than a LIT cap and than one segment (128 KiB here).
func bigFile() []byte {
	b := make([]byte, 300_000)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestImmutableFile(t *testing.T) {
	e := newEnv(t)
	data := bigFile()
	capStr := e.do("PUT", "/uri", bytes.NewReader(data)).must(t, http.StatusOK)
	if !strings.HasPrefix(capStr, "URI:CHK:") {
		t.Fatalf("PUT /uri: %q", capStr)
	}
	// Same bytes, same cap (convergence).
	if again := e.do("PUT", "/uri", bytes.NewReader(data)).must(t, http.StatusOK); again != capStr {
		t.Errorf("second PUT gave %q, want %q", again, capStr)
	}
	r := e.get("/uri/" + u(capStr))
	if r.must(t, http.StatusOK) != string(data) {
		t.Fatal("GET returned other bytes")
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("content-type %q, want text/plain (name unknown)", ct)
	}
	if r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Errorf("headers %v", r.header)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("security headers missing: %v", r.header)
	}
	si := capSI(t, capStr)
	if tag := r.header.Get("ETag"); tag != si+"-" {
		t.Errorf("ETag %q, want %q", tag, si+"-")
	}
	// If-None-Match: 304 without a body.
	if r := e.get("/uri/"+u(capStr), "If-None-Match", si+"-"); r.code != http.StatusNotModified || r.body != "" {
		t.Errorf("If-None-Match: %d %q", r.code, r.body)
	}
	if r := e.get("/uri/"+u(capStr)+"?t=json", "If-None-Match", "other "+si+"-json"); r.code != http.StatusNotModified {
		t.Errorf("If-None-Match t=json: %d", r.code)
	}
	// HEAD: headers, no body.
	h := e.do("HEAD", "/uri/"+u(capStr)+"?filename=x.jpg", nil)
	if h.code != 200 || h.body != "" || h.header.Get("Content-Length") != fmt.Sprint(len(data)) || h.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("HEAD: %d %q %v", h.code, h.body, h.header)
	}
	if r := e.do("HEAD", "/uri/"+u(capStr)+"?t=json", nil); r.code != 400 {
		t.Errorf("HEAD t=json: %d", r.code)
	}
	// Ranges, as Tahoe: one range served, overruns truncated, a start
	// beyond the end 416, nonsense ignored.
	for _, tc := range []struct {
		rng       string
		code      int
		from, to  int
		contRange string
	}{
		{"bytes=0-9", 206, 0, 10, "bytes 0-9/300000"},
		{"bytes=150000-", 206, 150000, 300000, "bytes 150000-299999/300000"},
		{"bytes=-100", 206, 299900, 300000, "bytes 299900-299999/300000"},
		{"bytes=299990-400000", 206, 299990, 300000, "bytes 299990-299999/300000"},
		{"bytes=131000-131100,5-6", 206, 131000, 131101, "bytes 131000-131100/300000"},
		{"bytes=300000-300010", 416, 0, 0, ""},
		{"bytes=300000-", 200, 0, 300000, ""}, // Tahoe: last < first, so no range
		{"bytes=9-2", 200, 0, 300000, ""},
		{"items=0-2", 200, 0, 300000, ""},
	} {
		r := e.get("/uri/"+u(capStr), "Range", tc.rng)
		if r.code != tc.code {
			t.Errorf("Range %s: %d, want %d (%q)", tc.rng, r.code, tc.code, trunc(r.body))
			continue
		}
		if tc.code == 416 {
			if r.body != "First beyond end of file" {
				t.Errorf("Range %s: body %q", tc.rng, r.body)
			}
			continue
		}
		if r.body != string(data[tc.from:tc.to]) {
			t.Errorf("Range %s: wrong %d bytes", tc.rng, len(r.body))
		}
		if got := r.header.Get("Content-Range"); got != tc.contRange {
			t.Errorf("Range %s: Content-Range %q, want %q", tc.rng, got, tc.contRange)
		}
	}
	// t=uri, t=readonly-uri, /named/, filename= and save=.
	if got := e.get("/uri/"+u(capStr)+"?t=uri").must(t, 200); got != capStr {
		t.Errorf("t=uri %q", got)
	}
	if got := e.get("/uri/"+u(capStr)+"?t=readonly-uri").must(t, 200); got != capStr {
		t.Errorf("t=readonly-uri %q", got)
	}
	n := e.get("/named/" + u(capStr) + "/report.pdf")
	if n.must(t, 200) != string(data) || n.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("/named/: %q", n.header.Get("Content-Type"))
	}
	if r := e.get("/named/"+u(capStr)+"/a.tar.gz", "Accept-Encoding", "identity"); r.header.Get("Content-Type") != "application/x-tar" || r.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a.tar.gz: %v", r.header)
	}
	s := e.get("/uri/" + u(capStr) + "?filename=notes.txt&save=true")
	if s.header.Get("Content-Disposition") != `attachment; filename="notes.txt"` || s.header.Get("Content-Type") != "text/plain" {
		t.Errorf("save=true: %v", s.header)
	}
	// GET /uri?uri= redirects, keeping the other arguments.
	rd := e.get("/uri?uri=" + u(capStr) + "&filename=a.txt")
	if rd.code != http.StatusFound || rd.header.Get("Location") != e.http.URL+"/uri/"+strings.ReplaceAll(capStr, ":", "%3A")+"?filename=a.txt" ||
		!strings.Contains(rd.body, `<meta http-equiv="refresh" content="0;URL=`) {
		t.Errorf("/uri?uri=: %d %q", rd.code, rd.header.Get("Location"))
	}
	if r := e.get("/uri?uri=junk"); r.code != 400 || r.body != "Invalid capability" {
		t.Errorf("/uri?uri=junk: %d %q", r.code, r.body)
	}
	if r := e.get("/uri"); r.code != 400 || r.body != "GET /uri requires uri=" {
		t.Errorf("GET /uri: %d %q", r.code, r.body)
	}
	// A LIT file: no ETag (no storage index), t=json without verify_uri.
	lit := e.put("/uri", "tiny").must(t, 200)
	if !strings.HasPrefix(lit, "URI:LIT:") {
		t.Fatalf("small file: %q", lit)
	}
	r = e.get("/uri/" + u(lit))
	if r.must(t, 200) != "tiny" || r.header.Get("ETag") != "" {
		t.Errorf("LIT: %q %q", r.body, r.header.Get("ETag"))
	}
	golden(t, "file-chk.json", e.get("/uri/"+u(capStr)+"?t=json").must(t, 200))
	golden(t, "file-lit.json", e.get("/uri/"+u(lit)+"?t=json").must(t, 200))
	// Errors on a file: children, bad t, write to an immutable cap.
	if r := e.get("/uri/" + u(capStr) + "/boguschild"); r.code != 400 || !strings.Contains(r.body, "Files have no children named 'boguschild'") {
		t.Errorf("child of a file: %d %q", r.code, r.body)
	}
	if r := e.put("/uri/"+u(capStr)+"/boguschild", ""); r.code != 409 || !strings.Contains(r.body, "Cannot create directory 'boguschild', because its parent is a file, not a directory") {
		t.Errorf("PUT below a file: %d %q", r.code, r.body)
	}
	if r := e.get("/uri/" + u(capStr) + "?t=bogus"); r.code != 400 || r.body != "GET file: bad t=bogus" {
		t.Errorf("bad t: %d %q", r.code, r.body)
	}
	if r := e.get("/named/URI:DIR2:aaaa/x"); r.code != 400 {
		t.Errorf("/named/ bad cap: %d %q", r.code, r.body)
	}
}

// capSI is the base32 storage index of a cap.
func capSI(t *testing.T, c string) string {
	t.Helper()
	cp, err := parseURLCap(c)
	if err != nil {
		t.Fatal(err)
	}
	return caps.Base32Encode(cp.StorageIndex)
}

func TestMutableFile(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		query, prefix, format string
	}{
		{"?format=SDMF", "URI:SSK:", "SDMF"},
		{"?mutable=true", "URI:SSK:", "SDMF"},
		{"?format=mdmf", "URI:MDMF:", "MDMF"},
	} {
		w := e.put("/uri"+tc.query, "version one").must(t, 200)
		if !strings.HasPrefix(w, tc.prefix) {
			t.Fatalf("PUT /uri%s: %q", tc.query, w)
		}
		if got := e.get("/uri/"+u(w)).must(t, 200); got != "version one" {
			t.Errorf("%s: GET %q", tc.format, got)
		}
		if r := e.get("/uri/" + u(w)); r.header.Get("ETag") != "" || r.header.Get("Content-Length") != "11" {
			t.Errorf("%s: mutable headers %v", tc.format, r.header)
		}
		// A new version in place.
		if got := e.put("/uri/"+u(w), "version two, longer").must(t, 200); got != w {
			t.Errorf("PUT new version answered %q", got)
		}
		if got := e.get("/uri/"+u(w)).must(t, 200); got != "version two, longer" {
			t.Errorf("%s: after overwrite %q", tc.format, got)
		}
		// offset= writes in place.
		e.put("/uri/"+u(w)+"?offset=8", "TWO").must(t, 200)
		if got := e.get("/uri/"+u(w)).must(t, 200); got != "version TWO, longer" {
			t.Errorf("%s: after offset write %q", tc.format, got)
		}
		if got := e.get("/uri/"+u(w), "Range", "bytes=8-10").must(t, 206); got != "TWO" {
			t.Errorf("%s: range of a mutable file %q", tc.format, got)
		}
		ro := e.get("/uri/"+u(w)+"?t=readonly-uri").must(t, 200)
		if !strings.Contains(ro, "-RO:") {
			t.Errorf("readonly-uri %q", ro)
		}
		// Through the read cap: reads work, writes get Tahoe's 400.
		if got := e.get("/uri/"+u(ro)).must(t, 200); got != "version TWO, longer" {
			t.Errorf("read through the read cap: %q", got)
		}
		r := e.put("/uri/"+u(ro), "nope")
		if r.code != 400 || r.body != "PUT to a mutable file: replace or update requested with read-only cap" {
			t.Errorf("%s: PUT through a read cap: %d %q", tc.format, r.code, r.body)
		}
		golden(t, "file-"+strings.ToLower(tc.format)+".json", normalize(e.get("/uri/"+u(w)+"?t=json").must(t, 200)))
		golden(t, "file-"+strings.ToLower(tc.format)+"-ro.json", normalize(e.get("/uri/"+u(ro)+"?t=json").must(t, 200)))
	}
	if r := e.put("/uri?format=zip", "x"); r.code != 400 || r.body != "Unknown format: zip, I know CHK, SDMF, MDMF" {
		t.Errorf("bad format: %d %q", r.code, r.body)
	}
	if r := e.put("/uri?mutable=maybe", "x"); r.code != 400 || r.body != "invalid boolean argument: b'maybe'" {
		t.Errorf("bad mutable=: %d %q", r.code, r.body)
	}
}

func TestMutableTooLarge(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxMutableSize = 1000 })
	r := e.put("/uri?format=SDMF", strings.Repeat("x", 1001))
	if r.code != http.StatusRequestEntityTooLarge || !strings.HasPrefix(r.body, "FileTooLargeError") {
		t.Errorf("oversized mutable: %d %q", r.code, r.body)
	}
	// Immutable uploads are spooled, not bounded.
	e.put("/uri", strings.Repeat("x", 5000)).must(t, 200)
}

func TestBadCaps(t *testing.T) {
	e := newEnv(t)
	// A malformed cap is, as in Tahoe, an object of unknown kind.
	if r := e.get("/uri/URI:CHK:zzzz:1:2:3"); r.code != 400 || !strings.HasPrefix(r.body, "GET unknown URI type") {
		t.Errorf("bad cap: %d %q", r.code, r.body)
	}
	if r := e.put("/uri/URI:CHK:zzzz:1:2:3/x", "data"); r.code != 404 {
		t.Errorf("PUT below a bad cap: %d %q", r.code, r.body)
	}
	// An unknown kind is Tahoe's UnknownNode.
	if r := e.get("/uri/URI:NEW:abc"); r.code != 400 || !strings.HasPrefix(r.body, "GET unknown URI type: can only do t=info and t=json, not t=.") {
		t.Errorf("unknown cap: %d %q", r.code, r.body)
	}
	if got := e.get("/uri/URI:NEW:abc?t=json").must(t, 200); got != "[\n \"unknown\",\n {}\n]\n" {
		t.Errorf("unknown t=json %q", got)
	}
	// A cap of a file nobody stored: 410 Gone.
	missing := "URI:CHK:3kyzkkcewydmyxw2x6jy6bpkae:syyijbcp3csxb2gvhklr7xl3mw5oojbpa3jh2fj3ntkzqdebs4eq:2:4:200000"
	if r := e.get("/uri/" + u(missing)); r.code != http.StatusGone || !strings.HasPrefix(r.body, "NoSharesError") {
		t.Errorf("missing file: %d %q", r.code, r.body)
	}
	if r := e.get("/nowhere"); r.code != 404 || !strings.Contains(r.body, "No Such Resource") {
		t.Errorf("unknown page: %d %q", r.code, r.body)
	}
}
