package webapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// childNames lists a directory's children through t=json.
func (e *env) childNames(dirURL string) map[string][]any {
	e.t.Helper()
	body := e.get(dirURL+"?t=json").must(e.t, 200)
	var v []json.RawMessage
	if err := json.Unmarshal([]byte(body), &v); err != nil || len(v) != 2 {
		e.t.Fatalf("t=json: %v %q", err, trunc(body))
	}
	var d struct {
		Children map[string][]any `json:"children"`
	}
	if err := json.Unmarshal(v[1], &d); err != nil {
		e.t.Fatal(err)
	}
	return d.Children
}

func TestDirectories(t *testing.T) {
	e := newEnv(t)
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	if !strings.HasPrefix(root, "URI:DIR2:") {
		t.Fatalf("mkdir: %q", root)
	}
	if got := e.post("/uri?t=mkdir&format=MDMF", "").must(t, 200); !strings.HasPrefix(got, "URI:DIR2-MDMF:") {
		t.Errorf("mkdir MDMF: %q", got)
	}
	if got := e.put("/uri?t=mkdir", "").must(t, 200); !strings.HasPrefix(got, "URI:DIR2:") {
		t.Errorf("PUT mkdir: %q", got)
	}
	if r := e.post("/uri?t=mkdir&format=CHK", ""); r.code != 400 || r.body != "format=CHK not currently accepted for POST /uri?t=mkdir" {
		t.Errorf("mkdir CHK: %d %q", r.code, r.body)
	}
	if r := e.post("/uri?t=mkdir", `{"a": []}`); r.code != 400 || !strings.HasPrefix(r.body, "t=mkdir does not accept children=") {
		t.Errorf("mkdir with a body: %d %q", r.code, r.body)
	}
	// curl --data sends a JSON body as a form: Tahoe still reads it as the body.
	if r := e.do("POST", "/uri?t=mkdir", strings.NewReader(`{"a": []}`), "Content-Type", "application/x-www-form-urlencoded"); r.code != 400 {
		t.Errorf("mkdir with a form-typed body: %d %q", r.code, r.body)
	}
	R := "/uri/" + u(root)

	// PUT into a path: intermediate directories are created; 201 for a new
	// file, 200 for a replaced one, 409 with replace=false.
	r := e.put(R+"/a/b/file.txt", "hello, file")
	fileCap := r.must(t, http.StatusCreated)
	if !strings.HasPrefix(fileCap, "URI:LIT:") {
		t.Errorf("PUT into a path: %q", fileCap)
	}
	if got := e.get(R+"/a/b/file.txt").must(t, 200); got != "hello, file" {
		t.Errorf("GET through the path: %q", got)
	}
	if r := e.get(R + "/a/b/file.txt"); r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("type from the child name: %q", r.header.Get("Content-Type"))
	}
	e.put(R+"/a/b/file.txt", "hello again, a new file").must(t, http.StatusOK)
	if r := e.put(R+"/a/b/file.txt?replace=false", "no"); r.code != 409 || r.body != textExists {
		t.Errorf("replace=false: %d %q", r.code, r.body)
	}
	if got := e.get(R+"/a/b/file.txt").must(t, 200); got != "hello again, a new file" {
		t.Errorf("after replace: %q", got)
	}
	// Mutable children, and PUT over a mutable child overwrites it in place.
	mcap := e.put(R+"/a/m.txt?format=MDMF", "mutable one").must(t, http.StatusCreated)
	if !strings.HasPrefix(mcap, "URI:MDMF:") {
		t.Fatalf("mutable child: %q", mcap)
	}
	if got := e.put(R+"/a/m.txt", "mutable two").must(t, 200); got != mcap {
		t.Errorf("PUT over a mutable child answered %q, want its cap", got)
	}
	if got := e.get("/uri/"+u(mcap)).must(t, 200); got != "mutable two" {
		t.Errorf("mutable child after PUT: %q", got)
	}

	// mkdir under a parent: the path form creates what is missing and
	// changes nothing when the directory exists; name= creates a child.
	sub := e.post(R+"/x/y?t=mkdir", "").must(t, 200)
	if again := e.post(R+"/x/y?t=mkdir", "").must(t, 200); again != sub {
		t.Errorf("mkdir of an existing directory gave %q, want %q", again, sub)
	}
	named := e.post(R+"/x?t=mkdir&name=z&format=MDMF", "").must(t, 200)
	if !strings.HasPrefix(named, "URI:DIR2-MDMF:") {
		t.Errorf("mkdir name= MDMF: %q", named)
	}
	if _, ok := e.childNames(R + "/x")["z"]; !ok {
		t.Error("x/z missing after mkdir name=")
	}
	if got := e.put(R+"/x/p?t=mkdir", "").must(t, 200); !strings.HasPrefix(got, "URI:DIR2:") {
		t.Errorf("PUT t=mkdir: %q", got)
	}
	// mkdir over a file, and through one.
	if r := e.post(R+"/a/b/file.txt?t=mkdir", ""); r.code != 400 || r.body != "POST to file: bad t=mkdir" {
		t.Errorf("mkdir over a file: %d %q", r.code, r.body)
	}
	if r := e.post(R+"/a/b/file.txt/deeper?t=mkdir", ""); r.code != 409 || !strings.Contains(r.body, "Unable to create directory &#39;") && !strings.Contains(r.body, "Unable to create directory 'file.txt': a file was in the way") {
		t.Errorf("mkdir through a file: %d %q", r.code, r.body)
	}
	// Missing children and empty path components.
	if r := e.get(R + "/nope"); r.code != 404 || !strings.Contains(r.body, "No such child: nope") {
		t.Errorf("missing child: %d %q", r.code, r.body)
	}
	if r := e.get(R + "/a//b"); r.code != 400 || !strings.Contains(r.body, textEmpty) {
		t.Errorf("empty component: %d %q", r.code, r.body)
	}
	if r := e.do("DELETE", R+"/nope", nil); r.code != 404 || !strings.Contains(r.body, "No such child: nope") {
		t.Errorf("DELETE missing: %d %q", r.code, r.body)
	}

	// Attach caps: PUT t=uri, POST t=uri.
	other := e.put("/uri", "other file contents, long enough to be a CHK file and not a literal").must(t, 200)
	if got := e.put(R+"/attached?t=uri", other).must(t, 200); got != other {
		t.Errorf("PUT t=uri answered %q", got)
	}
	if got := e.post(R+"?t=uri&name=posted&uri="+url.QueryEscape(other), "").must(t, 200); got != other {
		t.Errorf("POST t=uri answered %q", got)
	}
	if r := e.post(R+"?t=uri&name=posted&uri="+url.QueryEscape(other)+"&replace=false", ""); r.code != 409 {
		t.Errorf("POST t=uri replace=false: %d %q", r.code, r.body)
	}
	if r := e.put(R+"/x?t=uri&replace=only-files", other); r.code != 409 {
		t.Errorf("t=uri only-files over a directory: %d %q", r.code, r.body)
	}
	e.put(R+"/attached?t=uri&replace=only-files", other).must(t, 200)

	// set_children with metadata; the tahoe key is the node's own.
	kids := `{"s1": ["filenode", {"ro_uri": "` + other + `", "metadata": {"mtime": 1.5, "tahoe": {"linkcrtime": 1}}}],
		"s2": ["dirnode", {"rw_uri": "` + sub + `"}]}`
	if got := e.post(R+"/setme?t=mkdir", "").must(t, 200); got == "" {
		t.Fatal("no cap")
	}
	e.post(R+"/setme?t=set_children", kids).must(t, 200)
	golden(t, "dir-set-children.json", normalize(e.get(R+"/setme?t=json").must(t, 200)))
	if r := e.post(R+"/setme?t=set-children&overwrite=false", kids); r.code != 409 {
		t.Errorf("set-children overwrite=false: %d %q", r.code, r.body)
	}

	// Rename and relink keep the child and move it.
	e.post(R+"/setme?t=rename&from_name=s1&to_name=renamed", "").must(t, 200)
	if k := e.childNames(R + "/setme"); k["s1"] != nil || k["renamed"] == nil {
		t.Errorf("after rename: %v", k)
	}
	if r := e.post(R+"/setme?t=rename&from_name=s1&to_name=x&to_dir=zz", ""); r.code != 400 || r.body != "to_dir= is not valid for rename" {
		t.Errorf("rename with to_dir: %d %q", r.code, r.body)
	}
	e.post(R+"/setme?t=relink&from_name=renamed&to_dir="+url.QueryEscape(root+"/x/y")+"&to_name=moved", "").must(t, 200)
	if k := e.childNames(R + "/x/y"); k["moved"] == nil {
		t.Errorf("after relink: %v", k)
	}
	if r := e.post(R+"/setme?t=relink&from_name=gone&to_name=x", ""); r.code != 404 {
		t.Errorf("relink of a missing child: %d %q", r.code, r.body)
	}

	// Unlink and DELETE.
	if got := e.post(R+"?t=unlink&name=posted", "").must(t, 200); got != "thing unlinked" {
		t.Errorf("t=unlink: %q", got)
	}
	if got := e.post(R+"?t=delete&name=attached", "").must(t, 200); got != "thing unlinked" {
		t.Errorf("t=delete: %q", got)
	}
	if got := e.do("DELETE", R+"/x/p", nil).must(t, 200); !strings.HasPrefix(got, "URI:DIR2:") {
		t.Errorf("DELETE answered %q", got)
	}
	if k := e.childNames(R); k["posted"] != nil || k["attached"] != nil {
		t.Errorf("after unlinks: %v", k)
	}

	// The read cap: reads work; every write is Tahoe's NotWriteableError.
	ro := e.get(R+"?t=readonly-uri").must(t, 200)
	if !strings.HasPrefix(ro, "URI:DIR2-RO:") {
		t.Fatalf("readonly-uri %q", ro)
	}
	RO := "/uri/" + u(ro)
	if got := e.get(RO+"/a/b/file.txt").must(t, 200); got != "hello again, a new file" {
		t.Errorf("read through the read cap: %q", got)
	}
	for _, w := range []struct{ method, path, body string }{
		{"PUT", RO + "/new.txt", "data"},
		{"POST", RO + "?t=mkdir&name=d", ""},
		{"POST", RO + "?t=unlink&name=a", ""},
		{"DELETE", RO + "/a", ""},
		{"PUT", RO + "/a/b/new?t=uri", other},
		{"POST", RO + "?t=rename&from_name=a&to_name=b", ""},
	} {
		r := e.do(w.method, w.path, strings.NewReader(w.body))
		if r.code != http.StatusInternalServerError || !strings.HasPrefix(r.body, "NotWriteableError") {
			t.Errorf("%s %s through a read cap: %d %q", w.method, w.path, r.code, r.body)
		}
	}
	if r := e.put(RO+"/a/m.txt", "x"); r.code != 200 {
		// the file's own write cap is not in a read-only listing: the
		// child is reached read-only, so it is Tahoe's 400.
		if r.code != 400 || r.body != "PUT to a mutable file: replace or update requested with read-only cap" {
			t.Errorf("PUT over a mutable child through a read cap: %d %q", r.code, r.body)
		}
	}
	golden(t, "dir-ro.json", normalize(e.get(RO+"/a?t=json").must(t, 200)))
	golden(t, "dir.json", normalize(e.get(R+"/a?t=json").must(t, 200)))
	golden(t, "dir-child-file.json", normalize(e.get(R+"/a/b/file.txt?t=json").must(t, 200)))
	if got := e.get(R+"/a/b?t=uri").must(t, 200); !strings.HasPrefix(got, "URI:DIR2:") {
		t.Errorf("t=uri of a subdirectory: %q", got)
	}
	if r := e.get(R + "/a"); r.code != 200 || !strings.Contains(r.body, "<a href=") || !strings.Contains(r.body, "m.txt") {
		t.Errorf("directory HTML: %d %q", r.code, trunc(r.body))
	}
	if r := e.get(R + "?t=info"); r.code != 200 || !strings.Contains(r.body, "directory") {
		t.Errorf("t=info: %d", r.code)
	}
	if r := e.get(R + "?t=rename-form&name=a"); r.code != 200 || !strings.Contains(r.body, `value="a"`) {
		t.Errorf("rename-form: %d", r.code)
	}
	if r := e.get(R + "?t=bogus"); r.code != 400 || r.body != "GET directory: bad t=bogus" {
		t.Errorf("bad t: %d %q", r.code, r.body)
	}
	if r := e.post(R+"?t=bogus", ""); r.code != 400 || r.body != "POST to a directory with bad t=bogus" {
		t.Errorf("bad POST t: %d %q", r.code, r.body)
	}
}

func TestMkdirWithChildrenAndImmutable(t *testing.T) {
	e := newEnv(t)
	file := e.put("/uri", strings.Repeat("immutable directory contents\n", 10)).must(t, 200)
	lit := e.put("/uri", "lit").must(t, 200)
	mut := e.put("/uri?format=SDMF", "mutable").must(t, 200)
	kids := `{"file": ["filenode", {"ro_uri": "` + file + `", "metadata": {"ctime": 1202777696.7564139, "mtime": 1202777696.7564139, "tahoe": {"linkcrtime": 1202777696.7564139, "linkmotime": 1202777696.7564139}}}],
		"lit": ["filenode", {"ro_uri": "` + lit + `"}], "caf\u00e9": ["filenode", {"ro_uri": "` + lit + `"}]}`
	d := e.post("/uri?t=mkdir-with-children", kids).must(t, 200)
	if !strings.HasPrefix(d, "URI:DIR2:") {
		t.Fatalf("mkdir-with-children: %q", d)
	}
	golden(t, "dir-with-children.json", normalize(e.get("/uri/"+u(d)+"?t=json").must(t, 200)))

	imm := e.post("/uri?t=mkdir-immutable", kids).must(t, 200)
	if !strings.HasPrefix(imm, "URI:DIR2-CHK:") {
		t.Fatalf("mkdir-immutable: %q", imm)
	}
	I := "/uri/" + u(imm)
	golden(t, "dir-immutable.json", e.get(I+"?t=json").must(t, 200))
	// ETag on an immutable directory.
	r := e.get(I + "?t=json")
	if tag := r.header.Get("ETag"); !strings.HasPrefix(tag, "DIR:") || !strings.HasSuffix(tag, "-json") {
		t.Errorf("immutable directory ETag %q", tag)
	}
	if got := e.get(I+"/file").must(t, 200); got != strings.Repeat("immutable directory contents\n", 10) {
		t.Errorf("file in an immutable directory: %q", trunc(got))
	}
	// A mutable child is refused in an immutable directory.
	bad := `{"m": ["filenode", {"ro_uri": "` + mut + `"}]}`
	if r := e.post("/uri?t=mkdir-immutable", bad); r.code != 400 || !strings.Contains(r.body, "needed to be immutable but was not") {
		t.Errorf("mutable child in mkdir-immutable: %d %q", r.code, r.body)
	}
	// Changing an immutable directory is Tahoe's NotWriteableError.
	for _, w := range []struct{ method, path, body string }{
		{"PUT", I + "/new", "x"},
		{"POST", I + "?t=mkdir&name=d", ""},
		{"DELETE", I + "/file", ""},
		{"POST", I + "?t=set_children", `{}`},
	} {
		r := e.do(w.method, w.path, strings.NewReader(w.body))
		if r.code != http.StatusInternalServerError || !strings.HasPrefix(r.body, "NotWriteableError") {
			t.Errorf("%s %s on an immutable directory: %d %q", w.method, w.path, r.code, r.body)
		}
	}
	// Under a parent, with name= and by path.
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	R := "/uri/" + u(root)
	c1 := e.post(R+"?t=mkdir-with-children&name=kids", kids).must(t, 200)
	c2 := e.post(R+"/deep/imm?t=mkdir-immutable", kids).must(t, 200)
	if !strings.HasPrefix(c1, "URI:DIR2:") || c2 != imm {
		t.Errorf("mkdir under a parent: %q %q (want %q)", c1, c2, imm)
	}
	if r := e.post(R+"?t=mkdir-with-children&name=kids", kids); r.code != 409 {
		t.Errorf("mkdir-with-children over an existing name: %d %q", r.code, r.body)
	}
}

func TestUploadForms(t *testing.T) {
	e := newEnv(t)
	data := []byte(strings.Repeat("form upload ", 100))
	// Unlinked: the results page, or a redirect with when_done.
	r := e.form("/uri", map[string]string{"t": "upload"}, "f.txt", data)
	if r.code != 200 || !strings.Contains(r.body, "URI:CHK:") {
		t.Fatalf("POST /uri t=upload: %d %q", r.code, trunc(r.body))
	}
	r = e.form("/uri?t=upload&when_done=/done?u=%25(uri)s", nil, "f.txt", data)
	if r.code != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), e.http.URL+"/done?u=URI%3ACHK%3A") {
		t.Errorf("when_done: %d %q", r.code, r.header.Get("Location"))
	}
	if got := e.form("/uri", map[string]string{"t": "upload", "format": "MDMF"}, "f.txt", data).must(t, 200); !strings.HasPrefix(got, "URI:MDMF:") {
		t.Errorf("mutable form upload: %q", got)
	}
	// Into a directory: the name from the form's filename or name=.
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	R := "/uri/" + u(root)
	c := e.form(R+"?t=upload", nil, "photo.jpg", data).must(t, 200)
	if !strings.HasPrefix(c, "URI:CHK:") {
		t.Errorf("upload into a directory: %q", c)
	}
	e.form(R, map[string]string{"t": "upload", "name": "other name"}, "ignored", data).must(t, 200)
	if k := e.childNames(R); k["photo.jpg"] == nil || k["other name"] == nil {
		t.Errorf("children after form uploads: %v", k)
	}
	if r := e.form(R+"?t=upload&replace=false", nil, "photo.jpg", data); r.code != 409 {
		t.Errorf("replace=false: %d %q", r.code, r.body)
	}
	if r := e.form(R+"?t=upload", map[string]string{"name": "a/b"}, "x", data); r.code != 400 || r.body != "name= may not contain a slash" {
		t.Errorf("slash in name: %d %q", r.code, r.body)
	}
	// A form upload over a mutable child replaces its contents.
	m := e.put(R+"/mut?format=SDMF", "v1").must(t, http.StatusCreated)
	if got := e.form(R+"?t=upload", map[string]string{"name": "mut"}, "x", []byte("v2")).must(t, 200); got != m {
		t.Errorf("form over a mutable child: %q want %q", got, m)
	}
	if got := e.get("/uri/"+u(m)).must(t, 200); got != "v2" {
		t.Errorf("mutable after form: %q", got)
	}
	if r := e.form(R+"?t=upload", nil, "", nil); r.code != 400 {
		t.Errorf("upload without a file: %d %q", r.code, r.body)
	}
}

// TestConcurrentLinks: requests changing one directory at once are this
// node's own writes; none is lost.
func TestConcurrentLinks(t *testing.T) {
	e := newEnv(t)
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	R := "/uri/" + u(root)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			name := "f" + strings.Repeat("x", i)
			req, _ := http.NewRequest("PUT", e.http.URL+R+"/"+name, strings.NewReader(name))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("%s: %d", name, resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if k := e.childNames(R); len(k) != n {
		t.Errorf("%d children after %d concurrent PUTs: %v", len(k), n, k)
	}
}

// TestUnicodeNames: names are UTF-8 in URLs and NFC in directories, as
// Tahoe stores them; JSON escapes them as Python does.
func TestUnicodeNames(t *testing.T) {
	e := newEnv(t)
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	R := "/uri/" + u(root)
	e.put(R+"/r%C3%A9sum%C3%A9.txt", "nfc").must(t, http.StatusCreated)
	// The same name in NFD (e + combining acute) is the same child.
	if got := e.get(R+"/re%CC%81sume%CC%81.txt").must(t, 200); got != "nfc" {
		t.Errorf("NFD lookup: %q", got)
	}
	body := e.get(R+"?t=json").must(t, 200)
	if !strings.Contains(body, `"r\u00e9sum\u00e9.txt": [`) {
		t.Errorf("t=json name: %s", body)
	}
	if r := e.get(R + "/a%2Fb"); r.code != 404 {
		t.Errorf("escaped slash in a name: %d", r.code)
	}
}
