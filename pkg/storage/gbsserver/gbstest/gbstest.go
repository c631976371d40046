// Package gbstest starts real GBS storage servers for tests: a disk share
// store behind gbsserver, over TLS on 127.0.0.1 with a fresh certificate,
// with a hook that sees every request before it is served and a listener
// that counts connections. It owns nothing a program uses.
package gbstest

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// Server is a running test server; it stops when the test ends.
type Server struct {
	// NURL is the server's NURL (swissnum "sw").
	NURL gbswire.NURL
	// Store is the share store it serves.
	Store *shares.Store
	// Conns counts its connections.
	Conns *Listener
}

// Listener is a net.Listener that counts the connections it accepted, how
// many are open, and the most ever open at once.
type Listener struct {
	net.Listener
	Accepted, Open, Peak atomic.Int32
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.Accepted.Add(1)
	n := l.Open.Add(1)
	for p := l.Peak.Load(); n > p && !l.Peak.CompareAndSwap(p, n); p = l.Peak.Load() {
	}
	return &conn{Conn: c, l: l}, nil
}

type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.Open.Add(-1) })
	return c.Conn.Close()
}

// Start serves a fresh disk store until the test ends, calling hook (when
// not nil) with every request before serving it; a hook may block to slow
// the server down.
func Start(t testing.TB, hook func(*http.Request)) *Server {
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
		store.Close()
		t.Fatal(err)
	}
	ln := &Listener{Listener: inner}
	gs := gbsserver.New(store, "sw", gbsserver.Options{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook != nil {
			hook(r)
		}
		gs.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gbsserver.ServeTLS(ctx, ln, h, cert) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	return &Server{
		NURL:  gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: inner.Addr().(*net.TCPAddr).Port, Swissnum: "sw"},
		Store: store,
		Conns: ln,
	}
}
