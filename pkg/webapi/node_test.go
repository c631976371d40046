package webapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestWelcomePage(t *testing.T) {
	space := uint64(123456789)
	e := newEnv(t, func(o *Options) {
		o.Node.Storage = func(context.Context) (*StorageStatus, error) {
			return &StorageStatus{NodeID: "v0-ownstorage", Nickname: "test-node", AcceptingImmutableShares: true, AvailableSpace: &space, Version: "lafs/test"}, nil
		}
	})
	r := e.get("/?t=json")
	body := r.must(t, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content-type %q", ct)
	}
	// Normalize what changes from run to run: server ids, space.
	norm := regexp.MustCompile(`"nodeid": "[^"]*"`).ReplaceAllStringFunc(body, func(s string) string {
		if strings.Contains(s, "v0-ownstorage") {
			return s
		}
		return `"nodeid": "NODEID"`
	})
	norm = regexp.MustCompile(`"available_space": [0-9]+`).ReplaceAllString(norm, `"available_space": 0`)
	norm = regexp.MustCompile(`"(nickname|connection_status)": "[^"]*"`).ReplaceAllString(norm, `"$1": "X"`)
	golden(t, "welcome.json", norm)
	h := e.get("/")
	if h.code != 200 || !strings.Contains(h.body, "test-node") || !strings.Contains(h.body, "Connected to 4 of 4 known storage servers") || !strings.Contains(h.body, "accepting new shares, 123.46MB available") {
		t.Errorf("welcome HTML: %d %q", h.code, trunc(h.body))
	}
	if r := e.get("/?t=bogus"); r.code != 400 || !strings.Contains(r.body, "Unknown t value: &#39;bogus&#39;") && !strings.Contains(r.body, "Unknown t value: 'bogus'") {
		t.Errorf("bad t: %d %q", r.code, r.body)
	}
	if r := e.do("DELETE", "/", nil); r.code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /: %d", r.code)
	}
}

func TestWelcomeWithoutStorage(t *testing.T) {
	e := newEnv(t)
	body := e.get("/?t=json").must(t, 200)
	if strings.Contains(body, "storage_server") || !strings.HasPrefix(body, "{\n \"introducers\": {\n  \"statuses\": []\n },\n \"servers\": [\n  {\n   \"nodeid\": ") {
		t.Errorf("client-only welcome JSON: %q", trunc(body))
	}
	if !strings.Contains(e.get("/").body, "Not running storage server") {
		t.Error("welcome HTML does not say there is no storage server")
	}
}

func TestStatusAndStatistics(t *testing.T) {
	e := newEnv(t)
	e.put("/uri", strings.Repeat("s", 1000)).must(t, 200)
	// The upload is listed as Tahoe lists a finished one.
	if got := e.get("/status/?t=json").must(t, 200); got != "{\n \"active\": [],\n \"recent\": [\n  {\n   \"storage-index-string\": \"qrvnurscqxwfefldzrkressugi\",\n   \"total-size\": 1000,\n   \"status\": \"Finished\",\n   \"type\": \"upload\",\n   \"progress-hash\": 1.0,\n   \"progress-ciphertext\": 1.0,\n   \"progress-encode-push\": 1.0\n  }\n ]\n}\n" {
		t.Errorf("status JSON %q", got)
	}
	if r := e.get("/status/"); r.code != 200 || !strings.Contains(r.body, "Active Operations") {
		t.Errorf("status HTML: %d", r.code)
	}
	st := e.get("/statistics?t=json").must(t, 200)
	for _, want := range []string{`"uploader.files_uploaded": 1`, `"uploader.bytes_uploaded": 1000`, `"counters": {`, `"node.uptime": 0.0`} {
		if !strings.Contains(st, want) {
			t.Errorf("statistics lack %s: %s", want, st)
		}
	}
	if r := e.get("/statistics"); r.code != 200 || !strings.Contains(r.body, "Operational Statistics") {
		t.Errorf("statistics HTML: %d", r.code)
	}
	if got := e.get("/helper_status?t=json").must(t, 200); got != "{}\n" {
		t.Errorf("helper_status %q", got)
	}
	if r := e.get("/storage"); r.code != 200 || !strings.Contains(r.body, "No Storage Server Running") {
		t.Errorf("storage page: %d %q", r.code, r.body)
	}
}

func TestPrivateNeedsToken(t *testing.T) {
	e := newEnv(t)
	r := e.get("/private/logs/v1")
	if r.code != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `tahoe-lafs realm="tahoe-lafs"` {
		t.Errorf("no token: %d %v", r.code, r.header)
	}
	if r := e.get("/private/logs/v1", "Authorization", "tahoe-lafs wrong"); r.code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.code)
	}
	if r := e.get("/private/logs/v1", "Authorization", "tahoe-lafs sekrit-token"); r.code != http.StatusNotFound {
		t.Errorf("right token: %d", r.code)
	}
}

func TestLogsCensorCaps(t *testing.T) {
	e := newEnv(t)
	c := e.put("/uri?format=SDMF", "secret contents").must(t, 200)
	e.get("/uri/" + u(c) + "?t=json")
	e.get("/uri?uri=" + u(c))
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	e.post("/uri/"+u(root)+"?t=uri&name=private-name&uri="+u(c), "").must(t, 200)
	e.get("/uri/" + u(root) + "/private-name")
	e.get("/private/x", "Authorization", "tahoe-lafs sekrit-token")
	logs := e.log.String()
	if !strings.Contains(logs, "/uri/[CENSORED]") || !strings.Contains(logs, "t=json") {
		t.Fatalf("requests not logged: %s", logs)
	}
	for _, secret := range []string{c, u(c), root, u(root), "private-name", "sekrit-token", "secret contents", "URI:", "URI%3A"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

func TestLongOperations(t *testing.T) {
	e := newEnv(t)
	root := e.post("/uri?t=mkdir", "").must(t, 200)
	R := "/uri/" + u(root)
	for _, t2 := range []string{"start-deep-check", "start-manifest", "start-deep-size", "start-deep-stats"} {
		if r := e.post(R+"?t="+t2, ""); r.code != 400 || r.body != "slow operation requires ophandle=" {
			t.Errorf("%s without ophandle: %d %q", t2, r.code, r.body)
		}
		h := "h-" + t2
		r := e.post(R+"?t="+t2+"&ophandle="+h+"&output=JSON", "")
		if r.code != http.StatusFound || r.header.Get("Location") != "/operations/"+h+"?output=JSON" {
			t.Fatalf("%s: %d %q", t2, r.code, r.header.Get("Location"))
		}
		var st struct{ Finished bool }
		for i := 0; i < 200 && !st.Finished; i++ {
			body := e.get("/operations/"+h+"?output=JSON").must(t, 200)
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatalf("%s status: %v %q", t2, err, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !st.Finished {
			t.Errorf("%s never finished", t2)
		}
	}
	if body := e.get("/operations/h-start-deep-check?output=JSON&release-after-complete=true").must(t, 200); !strings.Contains(body, `"count-objects-healthy": 1,`) {
		t.Errorf("deep-check status: %s", body)
	}
	if r := e.get("/operations/h-start-deep-check"); r.code != 404 {
		t.Errorf("released handle: %d", r.code)
	}
	for _, t2 := range []string{"stream-manifest", "stream-deep-check"} {
		body := e.post(R+"?t="+t2, "").must(t, 200)
		if lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], `{"type": "stats", "stats": {"api-version": 1,`) {
			t.Errorf("%s: %q", t2, body)
		}
	}
	if body := e.post(R+"?t=check", "").must(t, 200); !strings.Contains(body, "Summary: Healthy") {
		t.Errorf("directory t=check: %q", body)
	}
	f := e.put("/uri", strings.Repeat("f", 100)).must(t, 200)
	if body := e.post("/uri/"+u(f)+"?t=check&verify=true&output=JSON", "").must(t, 200); !strings.Contains(body, `"count-shares-good": 4,`) {
		t.Errorf("file t=check: %q", body)
	}
	if r := e.post("/uri/"+u(f)+"?t=start-deep-check&ophandle=f1", ""); r.code != 400 {
		t.Errorf("start-deep-check on a file: %d", r.code)
	}
	lit := e.put("/uri", "lit").must(t, 200)
	if got := e.post("/uri/"+u(lit)+"?t=check&output=JSON", "").must(t, 200); got != "{\n \"storage-index\": \"\",\n \"results\": {\n  \"healthy\": true\n }\n}\n" {
		t.Errorf("LIT t=check: %q", got)
	}
	if r := e.get("/operations/h1"); r.code != 404 || !strings.Contains(r.body, "unknown/expired handle &#39;h1&#39;") && !strings.Contains(r.body, "unknown/expired handle 'h1'") {
		t.Errorf("unknown handle: %d %q", r.code, r.body)
	}
}
