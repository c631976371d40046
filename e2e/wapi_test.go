package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWapi is the testscript command
//
//	wapi NODEDIR METHOD PATH [BODYFILE]
//
// which sends one plain HTTP request to the web API of the node whose
// directory is NODEDIR (its node.url, waited for up to 20 s while the node
// starts), prints the response body on stdout and "HTTP <code>" on
// stderr, and fails on a status of 400 or more (negate it to expect one).
func cmdWapi(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: wapi NODEDIR METHOD PATH [BODYFILE]")
	}
	dir := ts.MkAbs(args[0])
	var base string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(dir, "node.url"))
		if err == nil && strings.HasSuffix(string(b), "\n") {
			base = strings.TrimSuffix(strings.TrimSpace(string(b)), "/")
			if resp, err := http.Get(base + "/?t=json"); err == nil {
				resp.Body.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no web API answering at %s/node.url", dir)
		}
	}
	var body io.Reader
	if len(args) == 4 {
		b, err := os.ReadFile(ts.MkAbs(args[3]))
		ts.Check(err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(args[1], base+args[2], body)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	ts.Check(err)
	ts.Stdout().Write(out)
	fmt.Fprintf(ts.Stderr(), "HTTP %s\n", strconv.Itoa(resp.StatusCode))
	if failed := resp.StatusCode >= 400; failed != neg {
		ts.Fatalf("%s %s: HTTP %d: %s", args[1], args[2], resp.StatusCode, out)
	}
}
