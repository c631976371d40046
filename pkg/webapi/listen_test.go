package webapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Endpoint
		err  string
	}{
		{in: "tcp:3456:interface=127.0.0.1", want: Endpoint{"tcp", 3456, "127.0.0.1"}},
		{in: "tcp:port=0:interface=127.0.0.1", want: Endpoint{"tcp", 0, "127.0.0.1"}},
		{in: "3456", want: Endpoint{"tcp", 3456, ""}},
		{in: "tcp:8080", want: Endpoint{"tcp", 8080, ""}},
		{in: `tcp6:3456:interface=\:\:1`, want: Endpoint{"tcp6", 3456, "::1"}},
		{in: "tcp:3456:interface=localhost:backlog=50", want: Endpoint{"tcp", 3456, "localhost"}},
		{in: "", err: "disabled"},
		{in: "none", err: "disabled"},
		{in: "NONE", err: "disabled"},
		{in: "ssl:3456:privateKey=k.pem", err: "TLS endpoints are not supported"},
		{in: "unix:/tmp/x", err: "unsupported endpoint type"},
		{in: "tcp:99999", err: "bad port"},
		{in: "tcp:interface=127.0.0.1", err: "no port"},
		{in: "tcp:1:color=red", err: "unknown argument"},
		{in: "tcp:1:interface=a b", err: "bad interface"},
		{in: `tcp:1\`, err: "backslash"},
	} {
		got, err := ParseEndpoint(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v %v, want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseEndpoint("none"); !errors.Is(err, ErrDisabled) {
		t.Errorf("none: %v, want ErrDisabled", err)
	}
}

func TestListenAndServe(t *testing.T) {
	dir := t.TempDir()
	if err := localgrid.Create(dir, 3); err != nil {
		t.Fatal(err)
	}
	cfg := "[node]\nnickname = listen-test\nweb.port = tcp:0:interface=127.0.0.1\n[client]\nshares.needed = 2\nshares.happy = 2\nshares.total = 3\n"
	if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	node, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The store as pkg/lafs opens it, without importing pkg/lafs (which
	// will import the gateway client below this package).
	servers, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(node, servers)
	if err != nil {
		t.Fatal(err)
	}
	store := client.NewStore(c, client.GridLocal)
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ListenAndServe(ctx, node, store, ServeOptions{Ready: func(u string) { ready <- u }})
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no listener")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe returned %v", err)
		}
		// Tahoe leaves node.url in place.
		if _, err := os.Stat(filepath.Join(dir, "node.url")); err != nil {
			t.Errorf("node.url after shutdown: %v", err)
		}
	}()
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") {
		t.Errorf("node URL %q", base)
	}
	b, err := os.ReadFile(filepath.Join(dir, "node.url"))
	if err != nil || string(b) != base+"\n" {
		t.Errorf("node.url %q %v, want %q", b, err, base+"\n")
	}
	tok, err := os.ReadFile(filepath.Join(dir, "private", "api_auth_token"))
	if err != nil || len(strings.TrimSpace(string(tok))) != 44 {
		t.Errorf("api_auth_token %q %v", tok, err)
	}
	resp, err := http.Get(base + "?t=json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"servers": [`) {
		t.Errorf("welcome: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(base+"uri?t=mkdir", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	capB, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(capB), "URI:DIR2:") {
		t.Errorf("mkdir through the node: %q", capB)
	}
	req, _ := http.NewRequest("GET", base+"private/x", nil)
	req.Header.Set("Authorization", "tahoe-lafs "+strings.TrimSpace(string(tok)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("private with the node's token: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); err != nil {
		t.Errorf("tempdir: %v", err)
	}
}

// TestSlowClients: a client that stalls in its headers or in its body is
// dropped after the idle timeout, and the node keeps serving others.
func TestSlowClients(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte("[node]\nweb.port = tcp:0:interface=127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	node, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ListenAndServe(ctx, node, slowUploads{localStore(t)}, ServeOptions{IdleTimeout: 300 * time.Millisecond, Ready: func(u string) { ready <- u }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	for _, stall := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n",                                         // headers never end
		"PUT /uri HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly some", // body never ends
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(stall)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(conn)
		conn.Close()
		if err != nil || time.Since(start) > 5*time.Second {
			t.Errorf("stalled client %q: %v after %v, want the server to hang up", stall[:12], err, time.Since(start))
		}
	}
	resp, err := http.Get(base + "?t=json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after slow clients: %d", resp.StatusCode)
	}
	// A request whose body is read in time but that then takes longer
	// than the idle timeout to process (slowUploads) is not cut.
	big := strings.Repeat("slow to encode? ", 1<<16)
	start := time.Now()
	resp, err = http.Post(base+"uri?t=mkdir", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dirCap, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(dirCap), "URI:DIR2:") {
		t.Fatalf("mkdir: %d %q", resp.StatusCode, dirCap)
	}
	req, _ := http.NewRequest("PUT", base+"uri/"+url.PathEscape(string(dirCap))+"/a/b/c/big.txt", strings.NewReader(big))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("long request: %d after %v: %s", resp.StatusCode, time.Since(start), body)
	}
}

// slowUploads is a store whose uploads take a second longer, like a big
// file's encoding does; it gives up when its context ends.
type slowUploads struct{ filestore.Store }

func (s slowUploads) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.Upload(ctx, src, size, o)
}

func TestListenDisabled(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte("[node]\nweb.port =\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	node, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ListenAndServe(context.Background(), node, localStore(t), ServeOptions{}); !errors.Is(err, ErrDisabled) {
		t.Errorf("empty web.port: %v, want ErrDisabled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node.url")); !os.IsNotExist(err) {
		t.Errorf("node.url written for a disabled web API: %v", err)
	}
}
