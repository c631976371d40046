package webapi

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRange: parseRange never panics and a range it accepts lies in order
// and, once clipped as download clips it, inside the file.
func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=1-2,3-4", "bytes=9-2", "items=1-2", "bytes=", "bytes=-", "bytes= 1 - 2 ", "bytes=+1-+2", "bytes=-99999999999999999999"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 || size > 1<<40 {
			return
		}
		br, ok := parseRange(h, size)
		if !ok {
			return
		}
		if br.last < br.first {
			t.Fatalf("%q: accepted %+v with last < first", h, br)
		}
		if br.first >= size {
			return // 416
		}
		first, last, ok := clipRange(br, size)
		if ok && (first > last || last >= size || first < 0) {
			t.Fatalf("%q size %d: clipped to %d-%d", h, size, first, last)
		}
	})
}

// FuzzEndpoint: ParseEndpoint never panics, and what it accepts has a
// port in range and formats to a listenable address.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{"tcp:3456:interface=127.0.0.1", "3456", "none", `tcp6:1:interface=\:\:1`, "tcp:port=0", "ssl:1", "tcp:1:backlog=x", `tcp:\`, "tcp::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEndpoint(s)
		if err != nil {
			return
		}
		if e.Port < 0 || e.Port > 65535 || (e.Network != "tcp" && e.Network != "tcp6") {
			t.Fatalf("%q: accepted %+v", s, e)
		}
		_ = e.Address()
	})
}

// FuzzURLPath: splitPath never panics and its segments, escaped again,
// give back the same segments; parseURLCap never panics.
func FuzzURLPath(f *testing.F) {
	for _, s := range []string{"/uri/URI%3ADIR2%3Aaa%3Abb/a/b", "/", "//", "/uri/%zz", "/named/URI:CHK:a:b:1:2:3/x.txt", "/uri/a%2Fb/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := splitPath(p)
		if err != nil {
			return
		}
		var esc []string
		for _, s := range segs {
			esc = append(esc, url.PathEscape(s))
			_, _ = parseURLCap(s)
		}
		again, err := splitPath("/" + strings.Join(esc, "/"))
		if err != nil || len(again) != len(segs) {
			t.Fatalf("%q: %q then %q %v", p, segs, again, err)
		}
		for i := range segs {
			if again[i] != segs[i] {
				t.Fatalf("%q: segment %d %q became %q", p, i, segs[i], again[i])
			}
		}
	})
}

// FuzzMultipart: a POST form of any shape is read without panic, every
// held field within its bound.
func FuzzMultipart(f *testing.F) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary("BOUNDARY")
	_ = mw.WriteField("t", "upload")
	fw, _ := mw.CreateFormFile("file", "a/b.txt")
	_, _ = fw.Write([]byte("contents"))
	_ = mw.Close()
	f.Add(b.Bytes())
	f.Add([]byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\\\"x\"\r\n\r\nabc\r\n--BOUNDARY--\r\n"))
	f.Add([]byte("--BOUNDARY\r\n\r\n--BOUNDARY--"))
	s, err := New(Options{Store: nil})
	if err == nil || s != nil {
		f.Fatal("New accepted a nil store")
	}
	srv := &Server{tempDir: f.TempDir()}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/uri", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=BOUNDARY")
		q, err := srv.newRequest(httptest.NewRecorder(), r)
		defer q.close()
		if err != nil {
			return
		}
		if len(q.form) > maxFormFields {
			t.Fatalf("%d fields held", len(q.form))
		}
		for k, v := range q.form {
			if len(v) > maxFormField {
				t.Fatalf("field %q holds %d bytes", k, len(v))
			}
		}
		if q.hasFile && q.fileName == "" {
			t.Fatal("a file without a name")
		}
	})
}

// FuzzChildrenJSON: the children JSON of set_children and
// mkdir-with-children is read without panic. (That pyjson re-writes any
// JSON as Python would is pyjson's FuzzRoundTrip.)
func FuzzChildrenJSON(f *testing.F) {
	f.Add([]byte(`{"a": ["filenode", {"ro_uri": "URI:LIT:nruxi", "metadata": {"mtime": 1.5}}]}`))
	f.Add([]byte(`{"caf\u00e9": ["dirnode", {"rw_uri": "URI:DIR2:aa:bb"}], "x": ["unknown", {}]}`))
	f.Add([]byte(`[1, 2.50, -0, 1e400, "\ud83d\ude00", null, true]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if kids, err := readChildren(body); err == nil {
			for _, k := range kids {
				_, _ = k.capOf(false)
				_, _ = k.capOf(true)
			}
		}
	})
}

// FuzzCensorURI: no query value other than the plain options survives
// into the log line.
func FuzzCensorURI(f *testing.F) {
	f.Add("/uri/URI%3ADIR2%3Aa%3Ab/x?t=json&name=secret")
	f.Add("/named/x/y?uri=URI:CHK:a&filename=f")
	f.Add("/?t=json&private-key=abc%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			return
		}
		got := CensorURI(u)
		_, gotQuery, _ := strings.Cut(got, "?")
		kept := map[string]bool{}
		for _, kv := range strings.Split(gotQuery, "&") {
			kept[kv] = true
		}
		for _, kv := range strings.Split(u.RawQuery, "&") {
			k, v, ok := strings.Cut(kv, "=")
			key, err := url.QueryUnescape(k)
			if !ok || err != nil || safeArg(key) || len(v) < 4 {
				continue
			}
			if kept[kv] {
				t.Fatalf("%q: %q kept in %q", raw, kv, got)
			}
		}
	})
}
