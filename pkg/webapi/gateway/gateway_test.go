package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// These tests run the store's real HTTP client against a loopback HTTP
// server that misbehaves in ways a real node cannot be made to (a body
// cut short, a huge answer, a stall), and record what the store sends.
// What a real node answers is checked in gateway_tahoe_test.go.

const (
	dirCap  = "URI:DIR2:auqwm7arjz6svoeo7dvjm6lfla:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka"
	fileCap = "URI:CHK:lswjlkqq4lg2zyk6woq3mvivze:fru5wwwaozi4baewclmrw4pixj6awigqfcsyhfem3t227hnw4tia:2:4:65"
)

func mustCap(t *testing.T, s string) *caps.Cap {
	t.Helper()
	c, err := caps.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// node serves handler on loopback and returns a store for it.
func node(t *testing.T, o Options, handler http.HandlerFunc) (*Store, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	s := New(srv.URL, o)
	t.Cleanup(func() { _ = s.Close() })
	return s, srv
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"URI:DIR2:ab:cd": "URI%3ADIR2%3Aab%3Acd",
		"føö":            "f%C3%B8%C3%B6",
		"☃":              "%E2%98%83",
		"a b+c&d?e#f%g":  "a%20b%2Bc%26d%3Fe%23f%25g",
		"a/b":            "a%2Fb",
		"_.-~AZaz09":     "_.-~AZaz09",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %q, want %q", in, got, want)
		}
	}
	if got := capPath("URI:LIT:aa", "", "x y", "", "é"); got != "uri/URI%3ALIT%3Aaa/x%20y/%C3%A9" {
		t.Errorf("capPath = %q", got)
	}
}

func TestParseNodeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:3456/":        "http://127.0.0.1:3456/",
		"http://127.0.0.1:3456":         "http://127.0.0.1:3456/",
		" https://node.example/tahoe\n": "https://node.example/tahoe/",
	} {
		u, err := parseNodeURL(in)
		if err != nil || u.String() != want {
			t.Errorf("parseNodeURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:3456", "ftp://x/", "http:///", "http://x/?a=b", "http://u:p@x/", "http://[::1/"} {
		if _, err := parseNodeURL(bad); err == nil {
			t.Errorf("parseNodeURL(%q) accepted", bad)
		}
	}
}

// TestRequests pins what goes on the wire for each method: the method,
// the escaped path and query Tahoe's CLI would send, and the body.
func TestRequests(t *testing.T) {
	type seen struct{ method, uri, body, ctype, accept string }
	var mu sync.Mutex
	var got []seen
	answer := map[string]string{} // "METHOD path" → body
	s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.RequestURI, string(b), r.Header.Get("Content-Type"), r.Header.Get("Accept")})
		a, ok := answer[r.Method+" "+r.URL.Path]
		mu.Unlock()
		if !ok {
			http.Error(w, "unexpected", 500)
			return
		}
		fmt.Fprint(w, a)
	})
	ctx := context.Background()
	dir := mustCap(t, dirCap)
	file := mustCap(t, fileCap)
	dirJSON := `["dirnode", {"rw_uri": "` + dirCap + `", "children": {}}]`
	answer["GET /uri/"+dirCap+"/a b/é"] = `["filenode", {"ro_uri": "` + fileCap + `"}]`
	answer["GET /uri/"+dirCap] = dirJSON
	answer["PUT /uri/"+dirCap+"/new name"] = fileCap
	answer["DELETE /uri/"+dirCap+"/é"] = fileCap
	answer["POST /uri"] = dirCap
	answer["PUT /uri"] = fileCap
	answer["PUT /uri/"+dirCap+"/sub dir/f.txt"] = fileCap
	answer["POST /uri/"+dirCap+"/x/é"] = dirCap
	answer["PUT /uri/"+dirCap+"/to/name"] = fileCap

	steps := []struct {
		name string
		call func() error
		want seen
	}{
		{"Resolve", func() error {
			c, err := s.Resolve(ctx, dir, "/a b//e\u0301/")
			if err == nil && c.String() != fileCap {
				err = fmt.Errorf("resolved to %v", c)
			}
			return err
		}, seen{method: "GET", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/a%20b/%C3%A9?t=json"}},
		{"ReadDir", func() error { _, err := s.ReadDir(ctx, dir); return err },
			seen{method: "GET", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka?t=json"}},
		{"Link", func() error { return s.Link(ctx, dir, "new name", file, false) },
			seen{method: "PUT", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/new%20name?t=uri&replace=false", body: fileCap}},
		{"Link replace", func() error { return s.Link(ctx, dir, "new name", file, true) },
			seen{method: "PUT", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/new%20name?t=uri&replace=true", body: fileCap}},
		{"Unlink", func() error { return s.Unlink(ctx, dir, "e\u0301") },
			seen{method: "DELETE", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/%C3%A9"}},
		{"Mkdir", func() error { _, err := s.Mkdir(ctx, filestore.MkdirOptions{}); return err },
			seen{method: "POST", uri: "/uri?t=mkdir"}},
		{"Mkdir SDMF with children", func() error {
			_, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatSDMF, Children: []dirnode.Entry{{Name: "f", ROCap: fileCap, Metadata: []byte(`{"a":1}`)}}})
			return err
		}, seen{method: "POST", uri: "/uri?t=mkdir-with-children&format=SDMF", body: `{"f":["filenode",{"ro_uri":"` + fileCap + `","metadata":{"a":1}}]}`}},
		{"Upload", func() error {
			_, err := s.Upload(ctx, strings.NewReader(strings.Repeat("x", 65)), 65, filestore.UploadOptions{})
			return err
		}, seen{method: "PUT", uri: "/uri", body: strings.Repeat("x", 65)}},
		{"PutFile", func() error {
			_, _, err := s.PutFile(ctx, dir, "sub dir/f.txt", strings.NewReader("abc"), 3, PutOptions{Format: filestore.FormatMDMF})
			return err
		}, seen{method: "PUT", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/sub%20dir/f.txt?format=MDMF", body: "abc"}},
		{"MkdirPath", func() error { _, err := s.MkdirPath(ctx, dir, "x/e\u0301/", filestore.FormatDefault); return err },
			seen{method: "POST", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/x/%C3%A9?t=mkdir"}},
		{"LinkPath", func() error { return s.LinkPath(ctx, dir, "to/name", file, ReplaceOnlyFiles) },
			seen{method: "PUT", uri: "/uri/URI%3ADIR2%3Aauqwm7arjz6svoeo7dvjm6lfla%3A4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka/to/name?t=uri&replace=only-files", body: fileCap}},
	}
	for _, st := range steps {
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := st.call(); err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		mu.Lock()
		if len(got) != 1 {
			t.Errorf("%s: %d requests, want 1: %+v", st.name, len(got), got)
		} else {
			g := got[0]
			if g.accept != "text/plain, application/octet-stream" {
				t.Errorf("%s: Accept %q", st.name, g.accept)
			}
			g.accept, g.ctype = "", ""
			if g != st.want {
				t.Errorf("%s:\n sent %+v\n want %+v", st.name, g, st.want)
			}
		}
		mu.Unlock()
	}
}

func TestUploadCreated(t *testing.T) {
	for code, want := range map[int]bool{200: false, 201: true} {
		s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength != 65 {
				http.Error(w, "no length", 400)
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(code)
			fmt.Fprintln(w, fileCap)
		})
		var progress []int64
		res, err := s.Upload(context.Background(), strings.NewReader(strings.Repeat("y", 65)), 65, filestore.UploadOptions{Progress: func(n int64) { progress = append(progress, n) }})
		if err != nil || res.Created != want || res.Placement != nil || res.Cap.String() != fileCap {
			t.Errorf("status %d: %+v, %v", code, res, err)
		}
		if len(progress) == 0 || progress[len(progress)-1] != 65 {
			t.Errorf("progress %v", progress)
		}
	}
	// A cap for a different size than was sent is refused.
	s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, fileCap) })
	if _, err := s.Upload(context.Background(), strings.NewReader("short"), 5, filestore.UploadOptions{}); err == nil || !strings.Contains(err.Error(), "not the 5 sent") {
		t.Errorf("a cap of the wrong size: %v", err)
	}
}

func TestDownloadCutShort(t *testing.T) {
	file := mustCap(t, fileCap) // 65 bytes
	for name, h := range map[string]http.HandlerFunc{
		"fewer bytes than Content-Length": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "65")
			_, _ = w.Write([]byte("only part"))
			panic(http.ErrAbortHandler)
		},
		"a complete response of the wrong size": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ten bytes!") },
		"chunked and cut": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("some"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := node(t, Options{}, h)
			var buf bytes.Buffer
			err := s.Download(context.Background(), file, &buf, filestore.DownloadOptions{})
			if err == nil {
				t.Fatal("a download cut short succeeded")
			}
			if strings.Contains(err.Error(), "lswjlkqq") {
				t.Errorf("the error quotes the cap: %v", err)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	dir := mustCap(t, dirCap)
	t.Run("a JSON answer larger than MaxJSON", func(t *testing.T) {
		s, _ := node(t, Options{MaxJSON: 1000}, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `["dirnode", {"children": {}, "pad": "`+strings.Repeat("x", 5000)+`"}]`)
		})
		if _, err := s.ReadDir(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes") {
			t.Fatalf("ReadDir: %v", err)
		}
	})
	t.Run("a node that does not answer in time", func(t *testing.T) {
		release := make(chan struct{})
		s, _ := node(t, Options{Timeout: 200 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		start := time.Now()
		_, err := s.ReadDir(context.Background(), dir)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer within 200ms") || time.Since(start) > 5*time.Second {
			t.Fatalf("ReadDir: %v after %v", err, time.Since(start))
		}
	})
	t.Run("a download cancelled midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "65")
			_, _ = w.Write([]byte("first part"))
			w.(http.Flusher).Flush()
			cancel()
			<-r.Context().Done()
		})
		err := s.Download(ctx, mustCap(t, fileCap), io.Discard, filestore.DownloadOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Download: %v, want context.Canceled", err)
		}
	})
	t.Run("an answer that is not a cap", func(t *testing.T) {
		s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>welcome</html>") })
		if _, err := s.Mkdir(context.Background(), filestore.MkdirOptions{}); err == nil || !strings.Contains(err.Error(), "not a cap") {
			t.Fatalf("Mkdir: %v", err)
		}
	})
	t.Run("a directory cap for a file", func(t *testing.T) {
		s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, fileCap) })
		if _, err := s.Mkdir(context.Background(), filestore.MkdirOptions{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("Mkdir: %v", err)
		}
	})
}

func TestUnreachableNode(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := New("http://"+addr+"/", Options{})
	_, err = s.ReadDir(context.Background(), mustCap(t, dirCap))
	if err == nil {
		t.Fatal("ReadDir through a closed port succeeded")
	}
	if strings.Contains(err.Error(), "auqwm7arj") || strings.Contains(err.Error(), "URI") {
		t.Errorf("the error quotes the cap: %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("the error does not name the node: %v", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("a *url.Error (which quotes the URL) is in the chain: %v", err)
	}
}

func TestLocalRefusals(t *testing.T) {
	// None of these reach the node: it would fail the test if asked.
	s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, "no", 500)
	})
	ctx := context.Background()
	dir := mustCap(t, dirCap)
	file := mustCap(t, fileCap)
	ro := dir.ReadOnly()
	mut, err := caps.Parse("URI:SSK:igekqs334yoaoh4yssqgfvn7c4:hztcryltf6y7igd5hhc62lb7e7jkg7e2eaoqgnle5trsxodkj2da")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"link into a read cap", s.Link(ctx, ro, "x", file, false), filestore.ErrReadOnly},
		{"unlink from a read cap", s.Unlink(ctx, ro, "x"), filestore.ErrReadOnly},
		{"link into a file", s.Link(ctx, file, "x", file, false), filestore.ErrNotDirectory},
		{"overwrite a read cap", s.OverwriteMutable(ctx, mut.ReadOnly(), nil), filestore.ErrReadOnly},
		{"overwrite an immutable file", s.OverwriteMutable(ctx, file, nil), nil},
		{"read a file as a directory", func() error { _, err := s.ReadDir(ctx, file); return err }(), filestore.ErrNotDirectory},
		{"resolve below a file", func() error { _, err := s.Resolve(ctx, file, "x"); return err }(), filestore.ErrNotDirectory},
		{"download a directory", s.Download(ctx, dir, io.Discard, filestore.DownloadOptions{}), nil},
		{"download through a verify cap", s.Download(ctx, file.Verifier(), io.Discard, filestore.DownloadOptions{}), nil},
		{"link a bad name", s.Link(ctx, dir, "a/b", file, false), nil},
		{"mkdir CHK with a write cap", func() error {
			_, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{{Name: "m", RWCap: mut.String()}}})
			return err
		}(), nil},
		{"mutable CHK", func() error {
			_, err := s.CreateMutable(ctx, nil, filestore.MutableOptions{Format: filestore.FormatCHK})
			return err
		}(), nil},
		{"put below a read cap", func() error {
			_, _, err := s.PutFile(ctx, ro, "f", strings.NewReader(""), 0, PutOptions{})
			return err
		}(), filestore.ErrReadOnly},
		{"put with no name", func() error {
			_, _, err := s.PutFile(ctx, dir, "/", strings.NewReader(""), 0, PutOptions{})
			return err
		}(), nil},
		{"mkdir path below a read cap", func() error { _, err := s.MkdirPath(ctx, ro, "d", filestore.FormatDefault); return err }(), filestore.ErrReadOnly},
		{"mkdir path CHK", func() error { _, err := s.MkdirPath(ctx, dir, "d", filestore.FormatCHK); return err }(), nil},
		{"link path with no name", s.LinkPath(ctx, dir, "", file, ReplaceNever), nil},
		{"link path bad mode", s.LinkPath(ctx, dir, "x", file, Replace(9)), nil},
		{"negative upload", func() error {
			_, err := s.Upload(ctx, strings.NewReader(""), -1, filestore.UploadOptions{})
			return err
		}(), nil},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if tc.want != nil && !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if c, err := s.Resolve(ctx, dir, "//"); err != nil || c != dir {
		t.Errorf("Resolve of an empty path: %v %v, want the root without a request", c, err)
	}
}

func TestTokenJSON(t *testing.T) {
	nodeDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(nodeDir, "private"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nodeDir, "private", "api_auth_token"), []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, srv := node(t, Options{NodeDir: nodeDir}, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != "POST" || r.URL.Path != "/status" || r.URL.RawQuery != "t=json" ||
			r.PostForm.Get("token") != "s3cr3t" || r.PostForm.Get("t") != "json" {
			http.Error(w, "bad token request", 400)
			return
		}
		fmt.Fprint(w, `{"active": []}`)
	})
	b, err := s.TokenJSON(context.Background(), "status")
	if err != nil || string(b) != `{"active": []}` {
		t.Fatalf("TokenJSON: %s %v", b, err)
	}
	if _, err := s.TokenJSON(context.Background(), "/status?x"); err == nil {
		t.Error("a page with a query accepted")
	}
	if _, err := New(srv.URL, Options{}).TokenJSON(context.Background(), "status"); !errors.Is(err, ErrNoToken) {
		t.Errorf("no node directory: %v, want ErrNoToken", err)
	}
	if _, err := New(srv.URL, Options{NodeDir: t.TempDir()}).TokenJSON(context.Background(), "status"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a node directory with no token: %v", err)
	}
}

func TestNewFromNodeDirIsLazy(t *testing.T) {
	dir := t.TempDir()
	s := NewFromNodeDir(dir, Options{}) // no node.url yet: nothing is read now
	defer s.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, dirCap) }))
	defer srv.Close()
	if err := os.WriteFile(filepath.Join(dir, "node.url"), []byte(srv.URL+"/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := s.Mkdir(context.Background(), filestore.MkdirOptions{})
	if err != nil || c.String() != dirCap {
		t.Fatalf("Mkdir: %v %v", c, err)
	}
	if _, err := NewFromNodeDir(t.TempDir(), Options{}).Mkdir(context.Background(), filestore.MkdirOptions{}); err == nil || !strings.Contains(err.Error(), "node.url") {
		t.Errorf("no node.url: %v", err)
	}
}

// TestMkdirFormatFallback: a node whose default format is MDMF ignores
// format=SDMF on t=mkdir-with-children; the store notices from the cap
// and makes the directory in two steps instead.
func TestMkdirFormatFallback(t *testing.T) {
	const mdmfDir = "URI:DIR2-MDMF:q32nc7n7umtx5tcwopx5m3gipy:ij4cgt5sv43gtjl75jt5j5jq4hj33pb2j3575pz3bpgikot3fkeq"
	var mu sync.Mutex
	var calls []string
	s, _ := node(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.RawQuery)
		mu.Unlock()
		switch r.URL.RawQuery {
		case "t=mkdir-with-children&format=SDMF":
			fmt.Fprint(w, mdmfDir)
		case "t=mkdir&format=SDMF":
			fmt.Fprint(w, dirCap)
		case "t=set_children&overwrite=false":
			if r.URL.Path != "/uri/"+dirCap {
				http.Error(w, "wrong directory", 400)
			}
		default:
			http.Error(w, "unexpected", 400)
		}
	})
	d, err := s.Mkdir(context.Background(), filestore.MkdirOptions{Format: filestore.FormatSDMF, Children: []dirnode.Entry{{Name: "f", ROCap: fileCap}}})
	if err != nil || d.String() != dirCap {
		t.Fatalf("Mkdir: %v %v (calls %v)", d, err, calls)
	}
	if want := "POST t=mkdir-with-children&format=SDMF,POST t=mkdir&format=SDMF,POST t=set_children&overwrite=false"; strings.Join(calls, ",") != want {
		t.Errorf("calls %v, want %s", calls, want)
	}
}
