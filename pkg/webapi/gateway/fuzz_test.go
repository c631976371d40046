package gateway

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseNode: whatever a node sends as t=json, the parser returns a
// node or an error, never panics, and what it returns is consistent.
func FuzzParseNode(f *testing.F) {
	seed(f, "testdata/dir-rw.json")
	f.Add([]byte(`["filenode", {"ro_uri": "URI:LIT:aa", "size": 2, "metadata": {"tahoe": {}}}]`))
	f.Add([]byte(`["dirnode", {"children": {"a": ["unknown", {"ro_uri": "ro.x"}]}}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNode(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range n.Entries() {
			if seen[e.Name] {
				t.Fatalf("two entries named %q", e.Name)
			}
			seen[e.Name] = true
			if e.Metadata != nil && (e.Metadata[0] != '{' || !utf8.Valid(e.Metadata)) {
				t.Fatalf("metadata %q is not an object", e.Metadata)
			}
		}
	})
}

// FuzzParseWelcome: the welcome page parser never panics.
func FuzzParseWelcome(f *testing.F) {
	seed(f, "testdata/welcome.json")
	f.Add([]byte(`{"servers": [{"available_space": 1e3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseWelcome(data)
		if err == nil && w.Servers == nil {
			t.Fatal("no error and no servers list")
		}
	})
}

// FuzzErrorMessage: any error body becomes one valid-UTF-8 line of
// bounded length, with no cap left whole in it.
func FuzzErrorMessage(f *testing.F) {
	f.Add("text/html", []byte("<html><head><title>404 - Error</title></head><body><p>No such child: x</p></body></html>"))
	f.Add("text/plain", []byte("Traceback (most recent call last):\nFailure: a.b.NotWriteableError: \n"))
	f.Add("text/plain", []byte("bad URI:CHK:abc:def:1:2:3 here"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		msg := errorMessage(ctype, body)
		if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\r\n") || len(msg) > 500+len("…") {
			t.Fatalf("message %q", msg)
		}
		for rest := msg; strings.Contains(rest, "URI:"); {
			rest = rest[strings.Index(rest, "URI:")+4:]
			tok := rest
			if end := strings.IndexFunc(rest, capEnd); end >= 0 {
				tok = rest[:end]
			}
			if c := strings.IndexByte(tok, ':'); c >= 0 && tok[c:] != ":…" {
				t.Fatalf("a cap survived in %q", msg)
			}
		}
	})
}
