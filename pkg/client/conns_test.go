package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// connCounter is a listener that tracks how many of its connections are
// open at once, and the most ever open.
type connCounter struct {
	net.Listener
	open, peak atomic.Int32
}

func (l *connCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *connCounter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// slowGBSServer is a real GBS server over TLS on 127.0.0.1 (disk store)
// that takes delay over every share write, as a loaded server does, and
// counts its connections.
func slowGBSServer(t *testing.T, i int, delay time.Duration) (Server, *connCounter) {
	t.Helper()
	cp, kp, err := node.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	store, err := shares.OpenDisk(t.TempDir(), shares.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &connCounter{Listener: inner}
	gs := gbsserver.New(store, "sw", gbsserver.Options{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			time.Sleep(delay)
		}
		gs.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gbsserver.ServeTLS(ctx, ln, h, cert) }()
	nurl := gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: inner.Addr().(*net.TCPAddr).Port, Swissnum: "sw"}
	g, err := gbs.New(nurl.String(), gbs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(); cancel(); <-done; store.Close() })
	id := fmt.Sprintf("v0-slow%02d", i)
	return Server{ID: id, Nickname: id, Addr: nurl.Address(), PermutationSeed: []byte(id), LeaseSeed: bytes.Repeat([]byte{byte(i)}, 20), Storage: g}, ln
}

// TestConcurrentUploadsShareConnections: eight uploads at once over ten
// slow GBS servers (as `tahoe cp -r` does) all succeed under a short
// query timeout, and share a bounded number of connections per server
// instead of opening one per write in flight.
func TestConcurrentUploadsShareConnections(t *testing.T) {
	const servers, uploads = 10, 8
	var ss []Server
	var lns []*connCounter
	for i := range servers {
		s, ln := slowGBSServer(t, i, 20*time.Millisecond)
		ss = append(ss, s)
		lns = append(lns, ln)
	}
	c := &Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 64 << 10},
		Convergence: []byte("conns"), LeaseSecret: []byte("lease"), ChunkSize: 64 << 10, QueryTimeout: 10 * time.Second}
	t.Cleanup(c.Close)
	ctx := context.Background()
	files := make([][]byte, uploads)
	cps := make([]*caps.Cap, uploads)
	errs := make([]error, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		files[i] = testData(1<<20 + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Upload(ctx, bytes.NewReader(files[i]), uint64(len(files[i])), nil)
			if err == nil {
				cps[i] = res.Cap
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	for i, ln := range lns {
		if n := ln.peak.Load(); n > gbs.DefaultMaxConns {
			t.Errorf("server %d: %d connections open at once for %d uploads, want at most %d", i, n, uploads, gbs.DefaultMaxConns)
		}
	}
	for i := range uploads {
		var buf bytes.Buffer
		if err := c.Download(ctx, cps[i], &buf, nil); err != nil || !bytes.Equal(buf.Bytes(), files[i]) {
			t.Fatalf("download %d: %v (%d bytes)", i, err, buf.Len())
		}
	}
}
