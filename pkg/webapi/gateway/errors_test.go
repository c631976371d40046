package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/filestore"
)

// The bodies below are in the shapes a Tahoe-LAFS 1.20 node sends for
// each failure (plain text, its HTML error page, a Twisted traceback in
// text), observed against a real node and written out by hand.
func TestStatusError(t *testing.T) {
	const cap = "URI:DIR2:auqwm7arjz6svoeo7dvjm6lfla:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka"
	for _, tc := range []struct {
		name  string
		code  int
		ctype string
		body  string
		msg   string
		want  error
	}{
		{name: "no such child (HTML page)", code: 404, ctype: "text/html; charset=utf-8",
			body: "\n<html>\n  <head><title>404 - Error</title></head>\n  <body>\n    <h1>Error</h1>\n    <p>No such child: nope</p>\n  </body>\n</html>\n",
			msg:  "No such child: nope", want: filestore.ErrNotFound},
		{name: "existing child", code: 409, ctype: "text/plain;charset=utf-8",
			body: "There was already a child by that name, and you asked me to not replace it.",
			msg:  "There was already a child by that name, and you asked me to not replace it.", want: filestore.ErrExists},
		{name: "write to a read-only directory (traceback)", code: 500, ctype: "text/plain;charset=utf-8",
			body: "Traceback (most recent call last):\nFailure: allmydata.mutable.common.NotWriteableError: \n",
			msg:  "NotWriteableError", want: filestore.ErrReadOnly},
		{name: "overwrite through a read cap", code: 400, ctype: "text/plain;charset=utf-8",
			body: "PUT to a mutable file: replace or update requested with read-only cap",
			msg:  "PUT to a mutable file: replace or update requested with read-only cap", want: filestore.ErrReadOnly},
		{name: "path through a file (HTML title)", code: 400, ctype: "text/html; charset=utf-8",
			body: "<html>\n<head><title>400 - Files have no children named &#x27;x&#x27;</title></head>\n<body><h1>Files have no children named 'x'</h1>\n<p>no details</p></body></html>",
			msg:  "Files have no children named 'x'", want: filestore.ErrNotDirectory},
		{name: "mkdir through a file", code: 409, ctype: "text/plain;charset=utf-8",
			body: "Unable to create directory 'f.txt': a file was in the way",
			msg:  "Unable to create directory 'f.txt': a file was in the way", want: filestore.ErrNotDirectory},
		{name: "uncoordinated write", code: 500, ctype: "text/plain",
			body: "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n    g()\n--- <exception caught here> ---\nallmydata.mutable.common.UncoordinatedWriteError: I was surprised!\n",
			msg:  "UncoordinatedWriteError: I was surprised!", want: filestore.ErrUncoordinated},
		{name: "no shares (two paragraphs)", code: 410, ctype: "text/plain;charset=utf-8",
			body: "NoSharesError: no shares could be found.\n\nThe full error message is:\nno shares (need 2). Last failure: None",
			msg:  "NoSharesError: no shares could be found.: The full error message is: no shares (need 2). Last failure: None"},
		{name: "assertion in a traceback", code: 500, ctype: "text/plain",
			body: "Traceback (most recent call last):\n  File \"/x/filenode.py\", line 286, in render_PUT\n    assert self.parentnode and self.name\nbuiltins.AssertionError: \n",
			msg:  "AssertionError"},
		{name: "a cap in the message is cut", code: 400, ctype: "text/plain",
			body: "bad child " + cap + ", try again",
			msg:  "bad child URI:DIR2:…, try again"},
		{name: "empty body", code: 502, ctype: "", body: "", msg: ""},
		{name: "HTML without a title", code: 500, ctype: "text/html", body: "<html><body>Internal <b>Server</b> Error</body></html>", msg: "Internal Server Error"},
		{name: "not UTF-8", code: 400, ctype: "text/plain", body: "bad \xff byte", msg: "bad \uFFFD byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newStatusError("link \"x\"", tc.code, tc.ctype, []byte(tc.body))
			if err.Message != tc.msg {
				t.Errorf("message %q, want %q", err.Message, tc.msg)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%v does not match %v", err, tc.want)
			}
			for _, s := range []error{filestore.ErrNotFound, filestore.ErrExists, filestore.ErrReadOnly, filestore.ErrNotDirectory, filestore.ErrUncoordinated} {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("%v also matches %v", err, s)
				}
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "4qacrfr7") {
				t.Errorf("error %q is not one line without caps", err)
			}
			if !strings.HasPrefix(err.Error(), "link \"x\": ") {
				t.Errorf("error %q does not start with the operation", err)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	got := oneLine(long, 501)
	if len(got) > 501+len("…") || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("cut %d bytes: %q", len(got), got)
	}
	if got := oneLine("a\r\nb  c\n\nd", 100); got != "a b c: d" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestScrubCaps(t *testing.T) {
	for in, want := range map[string]string{
		"no caps here":                    "no caps here",
		"URI:CHK:abc:def:3:10:202":        "URI:CHK:…",
		"('URI:SSK-RO:a:b', 'URI:LIT:x')": "('URI:SSK-RO:…', 'URI:LIT:…')",
		"ends in URI:":                    "ends in URI:",
		"URI:DIR2:a:b\nnext":              "URI:DIR2:…\nnext",
	} {
		if got := scrubCaps(in); got != want {
			t.Errorf("scrubCaps(%q) = %q, want %q", in, got, want)
		}
	}
}
