package webapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/pyjson"
)

// statusOps reads /status?t=json (POSTed with the token, as tahoe status
// asks) and returns each list as "type mode size status si" lines.
func statusOps(t *testing.T, e *env) (active, recent []string) {
	t.Helper()
	r := e.do("POST", "/status?t=json", strings.NewReader("t=json&token=sekrit-token"), "Content-Type", "application/x-www-form-urlencoded")
	body := r.must(t, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var v struct{ Active, Recent []map[string]any }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	line := func(m map[string]any) string {
		return fmt.Sprintf("%v %v %v %v %v", m["type"], m["mode"], m["total-size"], m["status"], m["storage-index-string"])
	}
	for _, m := range v.Active {
		active = append(active, line(m))
	}
	for _, m := range v.Recent {
		recent = append(recent, line(m))
	}
	return active, recent
}

func siOf(t *testing.T, c string) string {
	t.Helper()
	p, err := caps.Parse(strings.TrimSpace(c))
	if err != nil {
		t.Fatal(err)
	}
	if p.IsDirectory() {
		if p, err = caps.FileOf(p); err != nil {
			t.Fatal(err)
		}
	}
	return caps.Base32Encode(p.StorageIndex)
}

// TestStatusRecordsOperations: the node lists the operations Tahoe's
// would for the same requests, newest first, with Tahoe's fields: an
// upload and a download (none for a literal file), a mutable create
// (publish), read (mapupdate MODE_READ, retrieve), overwrite (mapupdate
// MODE_WRITE, publish), a directory made, listed and linked into.
func TestStatusRecordsOperations(t *testing.T) {
	e := newEnv(t)
	if a, r := statusOps(t, e); len(a) != 0 || len(r) != 0 {
		t.Fatalf("a fresh node lists %v %v", a, r)
	}
	big := strings.Repeat("x", 5000)
	chkCap := e.put("/uri", big).ok(t)
	e.put("/uri", "tiny").ok(t)
	if got := e.get("/uri/"+u(chkCap)).must(t, 200); got != big {
		t.Fatal("download differs")
	}
	mut := e.put("/uri?format=SDMF", "mutable one").ok(t)
	e.get("/uri/"+u(mut)).must(t, 200)
	e.put("/uri/"+u(mut), "mutable two!").ok(t)
	dir := e.post("/uri?t=mkdir", "").ok(t)
	e.put("/uri/"+u(dir)+"/f?t=uri", chkCap).ok(t)
	e.get("/uri/"+u(dir)+"?t=json").must(t, 200)

	active, recent := statusOps(t, e)
	if len(active) != 0 {
		t.Fatalf("active after every request ended: %v", active)
	}
	chkSI, mutSI, dirSI := siOf(t, chkCap), siOf(t, mut), siOf(t, dir)
	var want []string
	for _, l := range []string{
		"retrieve <nil> <nil> Finished {D}", "mapupdate MODE_READ -NA- Finished {D}",
		"publish <nil> <nil> Finished {D}", "retrieve <nil> <nil> Finished {D}", "mapupdate MODE_WRITE -NA- Finished {D}",
		"retrieve <nil> <nil> Finished {D}", "mapupdate MODE_READ -NA- Finished {D}",
		"publish <nil> 0 Finished {D}",
		"publish <nil> 12 Finished {M}", "mapupdate MODE_WRITE -NA- Finished {M}",
		"retrieve <nil> 11 Finished {M}", "mapupdate MODE_READ -NA- Finished {M}",
		"publish <nil> 11 Finished {M}",
		"download <nil> 5000 idle {C}",
		"upload <nil> 5000 Finished {C}",
	} {
		l = strings.NewReplacer("{D}", dirSI, "{M}", mutSI, "{C}", chkSI).Replace(l)
		want = append(want, l)
	}
	// The same sequence as real Tahoe 1.20's for the same requests (the
	// link reads the directory, then modifies it), less the sizes of
	// directory contents, which this node does not know.
	if strings.Join(recent, "\n") != strings.Join(want, "\n") {
		t.Fatalf("recent:\n%s\nwant:\n%s", strings.Join(recent, "\n"), strings.Join(want, "\n"))
	}

	html := e.get("/status/").must(t, 200)
	if !strings.Contains(html, "mapupdate MODE_READ") || !strings.Contains(html, chkSI) {
		t.Fatalf("status page lacks the operations:\n%s", html)
	}
}

// TestHistoryBounds: finished operations are kept up to Tahoe's limits
// per kind, oldest dropped first; an operation still running stays
// listed as active however many finish after it.
func TestHistoryBounds(t *testing.T) {
	now := time.Unix(1764580000, 0)
	h := newHistory(func() time.Time { now = now.Add(time.Second); return now })
	running := h.begin(opUpload, []byte("0123456789abcdef"), 100, "Encoding and pushing")
	for i := 0; i < 25; i++ {
		op := h.begin(opUpload, nil, int64(i), "x")
		h.finish(op, []byte(fmt.Sprintf("si-%013d", i)), nil)
		op = h.begin(opRetrieve, nil, int64(i), "x")
		h.finish(op, nil, fmt.Errorf("boom"))
	}
	active, recent := h.snapshot()
	if len(active) != 1 || active[0].seq != running.seq || !active[0].active {
		t.Fatalf("active: %+v", active)
	}
	var ups, rets int
	for _, op := range recent {
		switch op.kind {
		case opUpload:
			ups++
			if op.size < 15 || op.status != "Finished" {
				t.Fatalf("kept upload %+v", op)
			}
		case opRetrieve:
			rets++
			if op.status != "Failed" {
				t.Fatalf("retrieve %+v", op)
			}
		}
	}
	if ups != 10 || rets != 25 {
		t.Fatalf("kept %d uploads and %d retrieves, want 10 and 25", ups, rets)
	}
	for i := 1; i < len(recent); i++ {
		if recent[i].started.After(recent[i-1].started) {
			t.Fatal("recent is not newest first")
		}
	}
	h.update(running, func(op *opStatus) { op.progress = [3]float64{1, 0.5, 0.25} })
	want := `{"storage-index-string": "gaytemzugu3doobzmfrggzdfmy", "total-size": 100, "status": "Encoding and pushing", "type": "upload", "progress-hash": 1.0, "progress-ciphertext": 0.5, "progress-encode-push": 0.25}`
	if got := string(pyjson.Dumps(running.json(), -1)); got != want {
		t.Fatalf("JSON %s\nwant %s", got, want)
	}
}

// ok checks for a 2xx status and returns the body.
func (r response) ok(t testing.TB) string {
	t.Helper()
	if r.code/100 != 2 {
		t.Fatalf("status %d; body %q", r.code, trunc(r.body))
	}
	return r.body
}
