package gbs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// serveEnv makes the test binary run a GBS server on the directory it names
// (for the crash test, which kills that process with SIGKILL).
const serveEnv = "LAFS_GBS_TEST_SERVE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		if err := serveForever(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveForever serves dir with a fixed certificate stored in it and prints
// the NURL on stdout.
func serveForever(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certPath); err != nil {
		c, k, err := node.GenerateCertificate()
		if err != nil {
			return err
		}
		os.WriteFile(certPath, c, 0o600)
		os.WriteFile(keyPath, k, 0o600)
	}
	srv, err := startServer(ctx, filepath.Join(dir, "storage"), certPath, keyPath, "")
	if err != nil {
		return err
	}
	fmt.Println(srv.nurl)
	<-ctx.Done()
	return nil
}

type testServer struct {
	nurl  string
	local *shares.Store
	done  chan error
}

func startServer(ctx context.Context, dir, certPath, keyPath, addr string) (*testServer, error) {
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	local, err := shares.OpenDisk(dir, shares.Options{ApplicationVersion: "lafs-test"})
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	const swissnum = "abcdefghijklmnopqrstuvwxyz234567"
	h := gbsserver.New(local, swissnum, gbsserver.Options{})
	ts := &testServer{local: local, done: make(chan error, 1)}
	port := ln.Addr().(*net.TCPAddr).Port
	ts.nurl = gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: port, Swissnum: swissnum}.String()
	go func() {
		err := gbsserver.ServeTLS(ctx, ln, h, cert)
		local.Close()
		ts.done <- err
	}()
	return ts, nil
}

func newServer(t testing.TB) *testServer {
	t.Helper()
	dir := t.TempDir()
	c, k, err := node.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, c, 0o600)
	os.WriteFile(keyPath, k, 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	ts, err := startServer(ctx, filepath.Join(dir, "storage"), certPath, keyPath, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-ts.done
	})
	return ts
}

func newClient(t testing.TB, nurl string) *Client {
	t.Helper()
	c, err := New(nurl, Options{RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testSI(s string) storage.StorageIndex {
	var si storage.StorageIndex
	copy(si[:], s)
	return si
}

var lease = storage.LeaseSecrets{Renew: [32]byte{1, 2, 3}, Cancel: [32]byte{4, 5, 6}}

func TestImmutableFlow(t *testing.T) {
	ctx := context.Background()
	ts := newServer(t)
	c := newClient(t, ts.nurl)

	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.ApplicationVersion) != "lafs-test" || v.AvailableSpace == 0 || v.MaximumMutableShareSize == 0 {
		t.Fatalf("version %+v", v)
	}

	si := testSI("immutable-flow")
	data := randBytes(300_000)
	secret := []byte("upload secret 1")
	res, err := c.AllocateBuckets(ctx, si, lease, secret, []int{0, 1, 7}, uint64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Allocated) != "[0 1 7]" || len(res.AlreadyHave) != 0 {
		t.Fatalf("allocate: %+v", res)
	}
	// Same call, same secret: same answer, nothing changes.
	res2, err := c.AllocateBuckets(ctx, si, lease, secret, []int{0, 1, 7}, uint64(len(data)))
	if err != nil || fmt.Sprint(res2) != fmt.Sprint(res) {
		t.Fatalf("repeat allocate: %+v %v", res2, err)
	}
	// Another client's secret gets nothing for shares in progress.
	res3, err := c.AllocateBuckets(ctx, si, lease, []byte("other"), []int{0, 1}, uint64(len(data)))
	if err != nil || len(res3.Allocated) != 0 {
		t.Fatalf("other secret allocate: %+v %v", res3, err)
	}

	const chunk = 128 << 10
	for _, sh := range []int{0, 1} {
		for off := 0; off < len(data); off += chunk {
			end := min(off+chunk, len(data))
			wr, err := c.WriteShareChunk(ctx, si, sh, secret, uint64(off), data[off:end])
			if err != nil {
				t.Fatal(err)
			}
			if wr.Complete != (end == len(data)) {
				t.Fatalf("chunk %d: complete=%v", off, wr.Complete)
			}
			if !wr.Complete && (len(wr.Required) != 1 || wr.Required[0].Begin != uint64(end)) {
				t.Fatalf("required after %d: %+v", end, wr.Required)
			}
		}
	}
	// Idempotent rewrite of identical bytes (share 7 in progress).
	for i := 0; i < 2; i++ {
		if _, err := c.WriteShareChunk(ctx, si, 7, secret, 10, data[10:20]); err != nil {
			t.Fatalf("identical rewrite: %v", err)
		}
	}
	// Conflicting bytes: 409.
	bad := bytes.Clone(data[15:30])
	bad[0] ^= 0xff
	if _, err := c.WriteShareChunk(ctx, si, 7, secret, 15, bad); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("conflicting write: %v", err)
	}
	// Beyond the allocation: refused.
	if _, err := c.WriteShareChunk(ctx, si, 7, secret, uint64(len(data)-5), make([]byte, 10)); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("write past allocation: %v", err)
	}
	// Wrong upload secret: 401.
	if _, err := c.WriteShareChunk(ctx, si, 7, []byte("nope"), 0, data[:10]); !errors.Is(err, storage.ErrUnauthorized) {
		t.Fatalf("wrong upload secret: %v", err)
	}

	shares, err := c.ListShares(ctx, si)
	if err != nil || fmt.Sprint(shares) != "[0 1]" {
		t.Fatalf("list: %v %v", shares, err)
	}
	got, err := c.ReadShareChunk(ctx, si, 1, 0, uint64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read whole share: %d bytes, %v", len(got), err)
	}
	for _, tc := range []struct {
		name        string
		off, length uint64
		want        []byte
	}{
		{"middle", 1000, 5000, data[1000:6000]},
		{"past the end is short", uint64(len(data) - 10), 100, data[len(data)-10:]},
		{"starting past the end is empty", uint64(len(data) + 10), 100, nil},
		{"empty range", 5, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ReadShareChunk(ctx, si, 0, tc.off, tc.length)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(tc.want))
			}
		})
	}
	if _, err := c.ReadShareChunk(ctx, si, 5, 0, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("read missing share: %v", err)
	}
	// Repeat allocation sees the complete shares.
	res4, err := c.AllocateBuckets(ctx, si, lease, []byte("later"), []int{0, 1, 2}, uint64(len(data)))
	if err != nil || fmt.Sprint(res4.AlreadyHave) != "[0 1]" || fmt.Sprint(res4.Allocated) != "[2]" {
		t.Fatalf("allocate after upload: %+v %v", res4, err)
	}

	// Abort frees the space; aborting a complete share is refused.
	before, _ := c.Version(ctx)
	if err := c.AbortUpload(ctx, si, 7, secret); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Version(ctx)
	if after.AvailableSpace < before.AvailableSpace+uint64(len(data))-(1<<20) {
		t.Fatalf("abort did not free space: %d -> %d", before.AvailableSpace, after.AvailableSpace)
	}
	if err := c.AbortUpload(ctx, si, 0, secret); !errors.Is(err, storage.ErrNotAllowed) {
		t.Fatalf("abort complete share: %v", err)
	}
	if err := c.AbortUpload(ctx, si, 9, secret); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("abort unknown share: %v", err)
	}

	if err := c.AddOrRenewLease(ctx, si, storage.LeaseSecrets{Renew: [32]byte{9}, Cancel: [32]byte{8}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddOrRenewLease(ctx, testSI("nothing here"), lease); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("lease on missing SI: %v", err)
	}
	if err := c.AdviseCorruptShare(ctx, si, 0, "block hash mismatch"); err != nil {
		t.Fatal(err)
	}
	if err := c.AdviseCorruptShare(ctx, si, 4, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("corrupt advisory for missing share: %v", err)
	}
}

func TestMutableFlow(t *testing.T) {
	ctx := context.Background()
	ts := newServer(t)
	c := newClient(t, ts.nurl)
	si := testSI("mutable-flow")
	we := storage.MutableSecrets{WriteEnabler: [32]byte{7}, Lease: lease}
	ten := uint64(10)
	create := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
		3: {Test: []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}}, Write: []storage.WriteVector{{Offset: 0, Data: []byte("xxxxxxxxxx")}}, NewLength: &ten},
	}}
	res, err := c.ReadTestWrite(ctx, si, we, create)
	if err != nil || !res.Success {
		t.Fatalf("create: %+v %v", res, err)
	}
	// The same create again fails its test and reads nothing new.
	res, err = c.ReadTestWrite(ctx, si, we, create)
	if err != nil || res.Success {
		t.Fatalf("second create: %+v %v", res, err)
	}
	// Wrong write enabler: 401.
	if _, err := c.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: [32]byte{8}, Lease: lease}, create); !errors.Is(err, storage.ErrUnauthorized) {
		t.Fatalf("wrong write enabler: %v", err)
	}
	rewrite := storage.ReadTestWriteRequest{
		TestWriteVectors: map[uint64]storage.TestWriteVectors{
			3: {Test: []storage.TestVector{{Offset: 0, Size: 10, Specimen: []byte("xxxxxxxxxx")}}, Write: []storage.WriteVector{{Offset: 0, Data: []byte("yyyyyyyyyyzz")}}},
		},
		ReadVector: []storage.ReadVector{{Offset: 8, Size: 100}},
	}
	res, err = c.ReadTestWrite(ctx, si, we, rewrite)
	if err != nil || !res.Success || string(res.Data[3][0]) != "xx" {
		t.Fatalf("rewrite: %+v %v", res, err)
	}
	got, err := c.ReadMutableShareChunk(ctx, si, 3, 0, 100)
	if err != nil || string(got) != "yyyyyyyyyyzz" {
		t.Fatalf("read: %q %v", got, err)
	}
	shares, err := c.ListMutableShares(ctx, si)
	if err != nil || fmt.Sprint(shares) != "[3]" {
		t.Fatalf("list: %v %v", shares, err)
	}
	if err := c.AddOrRenewLease(ctx, si, lease); err != nil {
		t.Fatal(err)
	}
	if err := c.AdviseCorruptMutableShare(ctx, si, 3, "bad signature"); err != nil {
		t.Fatal(err)
	}
	// new-length 0 deletes the share.
	zero := uint64(0)
	res, err = c.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{3: {NewLength: &zero}}})
	if err != nil || !res.Success {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if shares, _ := c.ListMutableShares(ctx, si); len(shares) != 0 {
		t.Fatalf("after delete: %v", shares)
	}
}

func TestWrongSwissnum(t *testing.T) {
	ts := newServer(t)
	n, _ := gbswire.ParseNURL(ts.nurl)
	n.Swissnum = "wrongwrongwrongwrongwrongwrong22"
	c := newClient(t, n.String())
	if _, err := c.Version(context.Background()); !errors.Is(err, storage.ErrUnauthorized) {
		t.Fatalf("wrong swissnum: %v", err)
	}
}

func TestWrongSPKIHash(t *testing.T) {
	ts := newServer(t)
	other := newServer(t)
	n, _ := gbswire.ParseNURL(ts.nurl)
	o, _ := gbswire.ParseNURL(other.nurl)
	n.SPKIHash = o.SPKIHash // right address, someone else's identity
	c := newClient(t, n.String())
	_, err := c.Version(context.Background())
	if !errors.Is(err, ErrWrongServer) {
		t.Fatalf("mismatched SPKI hash: %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	ts := newServer(t)
	c := newClient(t, ts.nurl)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Version(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

// TestCrashMidUpload kills a server process with SIGKILL in the middle of an
// upload: no partial share may be visible and the server must start again
// cleanly on the same directory.
func TestCrashMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	// A watchdog kills children that hang.
	watchdog, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := func() (*exec.Cmd, string) {
		cmd := exec.CommandContext(watchdog, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), serveEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("server did not start: %v", err)
		}
		return cmd, strings.TrimSpace(line)
	}
	ctx := context.Background()
	cmd, nurl := start()
	c := newClient(t, nurl)
	si := testSI("crash")
	data := randBytes(1 << 20)
	if _, err := c.AllocateBuckets(ctx, si, lease, []byte("s"), []int{0}, uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteShareChunk(ctx, si, 0, []byte("s"), 0, data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	c.Close()

	sharePath := filepath.Join(dir, "storage", "shares", si.String()[:2], si.String(), "0")
	if _, err := os.Stat(sharePath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial share visible after crash: %v", err)
	}
	cmd, nurl = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	c = newClient(t, nurl)
	if shares, err := c.ListShares(ctx, si); err != nil || len(shares) != 0 {
		t.Fatalf("after restart: %v %v", shares, err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "storage", "shares", "incoming"))
	if len(ents) != 0 {
		t.Fatalf("incoming not cleaned: %v", ents)
	}
	res, err := c.AllocateBuckets(ctx, si, lease, []byte("s2"), []int{0}, uint64(len(data)))
	if err != nil || fmt.Sprint(res.Allocated) != "[0]" {
		t.Fatalf("allocate after restart: %+v %v", res, err)
	}
	if wr, err := c.WriteShareChunk(ctx, si, 0, []byte("s2"), 0, data); err != nil || !wr.Complete {
		t.Fatalf("upload after restart: %+v %v", wr, err)
	}
}

// flakyListener drops the first n connections it accepts.
type flakyListener struct {
	net.Listener
	drop atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.drop.Add(-1) >= 0 {
			c.Close()
			continue
		}
		return c, nil
	}
}

// TestRetriesOnlyWhereSafe: a dropped connection is retried for idempotent
// requests and surfaces for read-test-write.
func TestRetriesOnlyWhereSafe(t *testing.T) {
	dir := t.TempDir()
	cp, kp, _ := node.GenerateCertificate()
	cert, err := tls.X509KeyPair(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	store, err := shares.OpenDisk(dir, shares.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &flakyListener{Listener: inner}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- gbsserver.ServeTLS(ctx, ln, gbsserver.New(store, "sw", gbsserver.Options{}), cert)
	}()
	defer func() { cancel(); <-done }()
	nurl := gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: inner.Addr().(*net.TCPAddr).Port, Swissnum: "sw"}
	c := newClient(t, nurl.String())

	ln.drop.Store(1)
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatalf("idempotent request not retried: %v", err)
	}
	c.Close() // force a new connection
	ln.drop.Store(1)
	_, err = c.ReadTestWrite(context.Background(), testSI("rtw"), storage.MutableSecrets{}, storage.ReadTestWriteRequest{})
	if err == nil {
		t.Fatal("read-test-write was retried after a dropped connection")
	}
}

// TestServerThatNeverAnswers: a server that completes the TLS handshake,
// takes the request and never answers fails the request after the
// response-header timeout, even under a context with no deadline.
func TestServerThatNeverAnswers(t *testing.T) {
	certPEM, keyPEM, err := node.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		var conns []net.Conn
		var wg sync.WaitGroup
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				<-done
				return
			}
			conns = append(conns, c)
			wg.Add(1)
			go func() { defer wg.Done(); c.(*tls.Conn).Handshake(); io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() { close(done); ln.Close(); <-accepted })
	nurl := gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Swissnum: "abc"}.String()
	c, err := New(nurl, Options{Retries: -1, ResponseHeaderTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Version(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("got %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}
