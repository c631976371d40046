package tahoecmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestHTTPErrorsMatchTahoe: in gateway mode a node's error answer is
// printed as Tahoe's CLI prints it (format_http_error: "PREFIX: 404 Not
// Found", then the repr of the body), with Tahoe's exit status. The node
// here answers every request with the status and body a real Tahoe 1.20
// node sent for that verb's request; the goldens are what real Tahoe's
// CLI printed on stderr then.
func TestHTTPErrorsMatchTahoe(t *testing.T) {
	const root = "URI:DIR2:a7cpxwiiipohsn5njybihlzjiy:4v3twpy6vecw7gd34p6vbuws43phrs2f5qd5ir2umoddas6tkp3q"
	for _, tc := range []struct {
		golden, body string
		status       int
		args         []string
		code         int
	}{
		{"get-404", "404.body", 404, []string{"get", "tahoe:nothere"}, 1},
		{"unlink-404", "404.body", 404, []string{"unlink", "tahoe:nothere"}, 1},
		{"check-404", "404.body", 404, []string{"check", "tahoe:nothere"}, 1},
		{"deep-check-404", "404.body", 404, []string{"deep-check", "tahoe:nothere"}, 1},
		{"manifest-404", "404.body", 404, []string{"manifest", "tahoe:nothere"}, 1},
		{"stats-404", "404.body", 404, []string{"stats", "tahoe:nothere"}, 1},
		{"mv-404", "404.body", 404, []string{"mv", "tahoe:nothere", "tahoe:x"}, 1},
		{"ln-404", "404.body", 404, []string{"ln", "tahoe:nothere", "tahoe:x"}, 1},
		{"ls-400", "400.body", 400, []string{"ls", "tahoe:afile/x"}, 144},
		{"put-409", "409.body", 409, []string{"put", "@FILE", "tahoe:afile/x"}, 1},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "httperr", tc.body))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "httperr", tc.golden+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut && r.URL.Path == "/uri" {
					_, _ = w.Write([]byte("URI:LIT:")) // the (empty) unlinked upload before the link
					return
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			nd := t.TempDir()
			if err := os.MkdirAll(filepath.Join(nd, "private"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(nd, "node.url"), []byte(srv.URL+"/\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(nd, "private", "aliases"), []byte("tahoe: "+root+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-d", nd}, tc.args...)
			for i, a := range args {
				if a == "@FILE" {
					args[i] = filepath.Join(nd, "empty")
					if err := os.WriteFile(args[i], nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, errs, code := runTahoe(args...)
			if errs != string(want) || code != tc.code {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", code, errs, tc.code, want)
			}
		})
	}
}
