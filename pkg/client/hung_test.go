package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// hungServer is a storage server that accepts TCP connections on 127.0.0.1
// and never says a word, so the TLS handshake never completes, reached
// through the real GBS client.
func hungServer(t *testing.T) Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	nurl := gbswire.NURL{SPKIHash: base64.RawURLEncoding.EncodeToString(make([]byte, 32)), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Swissnum: "hung"}
	g, err := gbs.New(nurl.String(), gbs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.Close()
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return Server{ID: "v0-hung", Nickname: "hung", Addr: nurl.Address(), PermutationSeed: []byte("hung"), LeaseSeed: bytes.Repeat([]byte{7}, 20), Storage: g}
}

// TestHungServerStallsNothing puts one server that never answers among six
// healthy ones: reads and creates use the servers that answer without
// waiting for the query timeout; upload and overwrite, which must hear every
// server out, wait for it once.
func TestHungServerStallsNothing(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 6, nodedir.Encoding{Needed: 3, Happy: 5, Total: 6, MaxSegmentSize: 64 << 10})
	c.Servers = append(c.Servers, hungServer(t))
	c.QueryTimeout = 3 * time.Second
	// Reads and creates stop waiting once enough servers answered: well
	// under one query timeout. Writes that must hear every server out
	// (upload queries, mutable overwrites) take one query timeout, plus
	// the work and slack for a loaded machine under -race; so does Mkdir,
	// which generates an RSA key.
	const (
		fast = 2 * time.Second
		slow = 3*time.Second + 3*time.Second
	)
	bounds := map[string]time.Duration{"Mkdir": slow, "Upload (CHK)": slow, "OverwriteMutable SDMF": slow, "OverwriteMutable MDMF": slow, "Link": slow}
	timed := func(name string, f func() error) {
		t.Helper()
		start := time.Now()
		err := f()
		d := time.Since(start)
		t.Logf("%-28s %v", name, d.Round(time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bound, ok := bounds[name]
		if !ok {
			bound = fast
		}
		if d > bound {
			t.Fatalf("%s took %v with one hung server, want under %v", name, d, bound)
		}
	}
	data := testData(200_000)
	var chkCap *caps.Cap
	timed("Upload (CHK)", func() error {
		res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
		if err == nil {
			chkCap = res.Cap
		}
		return err
	})
	download := func(cp *caps.Cap) func() error {
		return func() error {
			var out bytes.Buffer
			if err := c.Download(ctx, cp, &out, nil); err != nil {
				return err
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("%s: wrong contents", cp.Kind)
			}
			return nil
		}
	}
	timed("Download (CHK)", download(chkCap))
	for _, format := range []int{mutable.VersionSDMF, mutable.VersionMDMF} {
		var mc *caps.Cap
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		timed("CreateMutable "+[]string{"SDMF", "MDMF"}[format], func() error {
			var err error
			mc, err = c.CreateMutable(ctx, data, format, key)
			return err
		})
		timed("Download "+[]string{"SDMF", "MDMF"}[format], download(mc))
		timed("OverwriteMutable "+[]string{"SDMF", "MDMF"}[format], func() error { return c.OverwriteMutable(ctx, mc, data) })
	}
	var dir *caps.Cap
	timed("Mkdir", func() error {
		var err error
		dir, err = c.Mkdir(ctx, false)
		return err
	})
	timed("Link", func() error { return c.Link(ctx, dir, "file", chkCap, false) })
	timed("ReadDir", func() error {
		es, err := c.ReadDir(ctx, dir)
		if err == nil && (len(es) != 1 || es[0].Name != "file") {
			t.Fatalf("entries %v", es)
		}
		return err
	})
}
