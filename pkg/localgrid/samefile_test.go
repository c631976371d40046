package localgrid

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// sameFileGrid is a grid that several independent uploaders reach, each
// with its own connections (or file descriptors and locks), as separate
// processes would.
type sameFileGrid struct {
	name string
	// open returns a fresh set of servers for one uploader.
	open func(t *testing.T) []client.Server
}

// localSameFileGrid is an embedded local grid of n servers; each uploader
// opens it on its own.
func localSameFileGrid(t *testing.T, n int) func(t *testing.T) []client.Server {
	dir := t.TempDir()
	if err := Create(dir, n); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) []client.Server {
		ss, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.CloseServers(ss) })
		return ss
	}
}

// gbsSameFileGrid is n GBS storage servers on loopback TLS, each over its
// own disk store; each uploader gets its own GBS clients.
func gbsSameFileGrid(t *testing.T, n int) func(t *testing.T) []client.Server {
	type srv struct {
		nurl      string
		seed, tub []byte
	}
	var srvs []srv
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := 0; i < n; i++ {
		certPEM, keyPEM, err := node.GenerateCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		store, err := shares.OpenDisk(filepath.Join(t.TempDir(), "storage"), shares.Options{ApplicationVersion: "lafs test"})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		swiss := fmt.Sprintf("swissnum%024d", i)
		nurl := gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Swissnum: swiss}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = gbsserver.ServeTLS(ctx, ln, gbsserver.New(store, swiss, gbsserver.Options{Logger: slog.New(slog.NewTextHandler(tWriter{t, 100 + i}, &slog.HandlerOptions{Level: slog.LevelError}))}), cert)
			store.Close()
		}()
		srvs = append(srvs, srv{nurl: nurl.String(), seed: []byte(fmt.Sprintf("seed-%02d-%026d", i, 0)), tub: []byte(fmt.Sprintf("tub-%02d-%015d", i, 0))})
	}
	return func(t *testing.T) []client.Server {
		var out []client.Server
		for i, s := range srvs {
			g, err := gbs.New(s.nurl, gbs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, client.Server{ID: fmt.Sprintf("v0-gbs-%02d", i), Nickname: fmt.Sprint("gbs-", i), Addr: "gbs", PermutationSeed: s.seed, LeaseSeed: s.tub, Storage: g})
		}
		t.Cleanup(func() { client.CloseServers(out) })
		return out
	}
}

// TestConcurrentUploadsOfOneFile: N uploaders (separate clients, as
// separate processes are) put the same bytes at once, on the embedded local
// grid and on a GBS grid, for files of one and of several segments. A share
// one uploader is writing is busy for the others, never a refusal: every
// upload succeeds with the same cap, reaches happiness, no server is ever
// reported failed or read-only, every share is stored exactly once per
// server, and the file reads back.
func TestConcurrentUploadsOfOneFile(t *testing.T) {
	const servers = 5
	enc := nodedir.Encoding{Needed: 2, Happy: 4, Total: 5, MaxSegmentSize: 64 << 10}
	sizes := []struct {
		name string
		size int
	}{
		{"one segment", 40 << 10},
		{"several segments", 600 << 10},
	}
	grids := []struct {
		name string
		make func(t *testing.T, n int) func(t *testing.T) []client.Server
	}{
		{"local", localSameFileGrid},
		{"gbs", gbsSameFileGrid},
	}
	for _, g := range grids {
		for _, sz := range sizes {
			for _, n := range []int{2, 3, 5, 8} {
				t.Run(fmt.Sprintf("%s/%s/%d uploaders", g.name, sz.name, n), func(t *testing.T) {
					open := g.make(t, servers)
					data := bytes.Repeat([]byte(fmt.Sprintf("%s %d ", sz.name, n)), sz.size/10+1)[:sz.size]
					clients := make([]*client.Client, n)
					for w := range clients {
						clients[w] = &client.Client{Servers: open(t), Encoding: enc, Convergence: []byte("same convergence"), LeaseSecret: []byte(fmt.Sprint("lease ", w)), QueryTimeout: 30 * time.Second,
							Logger: slog.New(slog.NewTextHandler(tWriter{t, w}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					results := make([]*client.UploadResult, n)
					errs := make([]error, n)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for w := range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							results[w], errs[w] = clients[w].Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
						}()
					}
					close(start)
					wg.Wait()
					for w, err := range errs {
						if err != nil {
							t.Fatalf("uploader %d: %v", w, err)
						}
					}
					uploaded := 0
					for w, r := range results {
						if r.Cap.String() != results[0].Cap.String() {
							t.Fatalf("uploader %d: cap %s, uploader 0: %s", w, r.Cap, results[0].Cap)
						}
						if r.Happiness < enc.Happy {
							t.Errorf("uploader %d: happiness %d < %d", w, r.Happiness, enc.Happy)
						}
						uploaded += r.Uploaded
					}
					// Each share was written by one uploader only.
					if uploaded > enc.Total {
						t.Errorf("%d shares written in all, want at most %d", uploaded, enc.Total)
					}
					for w, c := range clients {
						var out bytes.Buffer
						if err := c.Download(ctx, results[w].Cap, &out, nil); err != nil {
							t.Fatalf("uploader %d read back: %v", w, err)
						}
						if !bytes.Equal(out.Bytes(), data) {
							t.Fatalf("uploader %d read back other bytes", w)
						}
					}
					// A later upload finds every share held.
					c := &client.Client{Servers: open(t), Encoding: enc, Convergence: []byte("same convergence"), LeaseSecret: []byte("late")}
					r, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
					if err != nil {
						t.Fatal(err)
					}
					if r.Uploaded != 0 || r.Kept != enc.Total {
						t.Errorf("a later upload wrote %d and kept %d shares, want 0 and %d", r.Uploaded, r.Kept, enc.Total)
						for w, r := range results {
							t.Logf("uploader %d: uploaded %d kept %d placement %v", w, r.Uploaded, r.Kept, r.Placement)
						}
						t.Logf("later: placement %v", r.Placement)
					}
				})
			}
		}
	}
}

type tWriter struct {
	t *testing.T
	w int
}

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Logf("uploader %d: %s", w.w, p)
	return len(p), nil
}
