package client

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/gbsserver/gbstest"
)

// slowGBSServer is a real GBS server over TLS on 127.0.0.1 (disk store)
// that takes delay over every share write, as a loaded server does, and
// counts its connections.
func slowGBSServer(t *testing.T, i int, delay time.Duration) (Server, *gbstest.Listener) {
	t.Helper()
	s := gbstest.Start(t, func(r *http.Request) {
		if r.Method == http.MethodPatch {
			time.Sleep(delay)
		}
	})
	g, err := gbs.New(s.NURL.String(), gbs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	id := fmt.Sprintf("v0-slow%02d", i)
	return Server{ID: id, Nickname: id, Addr: s.NURL.Address(), PermutationSeed: []byte(id), LeaseSeed: bytes.Repeat([]byte{byte(i)}, 20), Storage: g}, s.Conns
}

// TestConcurrentUploadsShareConnections: eight uploads at once over ten
// slow GBS servers (as `tahoe cp -r` does) all succeed under a short
// query timeout, and share a bounded number of connections per server
// instead of opening one per write in flight.
func TestConcurrentUploadsShareConnections(t *testing.T) {
	const servers, uploads = 10, 8
	var ss []Server
	var lns []*gbstest.Listener
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
		if n := ln.Peak.Load(); n > gbs.DefaultMaxConns {
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
