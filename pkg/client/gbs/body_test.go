package gbs

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// TestWriteReturnsAfterBodyIsSent: a server that answers a PATCH before
// reading its body (early errors, or a misbehaving node) lets net/http's
// Do return while the transport is still sending the body from the
// caller's buffers. WriteShareChunk and WriteShareChunkVec return only
// once the transport has let go of the body, so buffers overwritten (or
// recycled) right after the call never reach the wire: the server, which
// goes on reading after its answer, sees only the original bytes, whatever
// the answer, the body size and the number of pieces.
func TestWriteReturnsAfterBodyIsSent(t *testing.T) {
	certPEM, keyPEM, err := node.GenerateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		n   int
		bad bool
	}
	got := make(chan seen, 1)
	var status struct {
		sync.Mutex
		code int
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.EnableFullDuplex()
		status.Lock()
		code := status.code
		status.Unlock()
		// A whole answer (its length known), so the client has all of it
		// before the body is read.
		var b []byte
		if code == http.StatusOK {
			b, _ = gbswire.MarshalCBOR(gbswire.WriteResponse{})
		}
		w.Header().Set("Content-Type", gbswire.MediaCBOR)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(code)
		w.Write(b)
		_ = rc.Flush()
		// Read the body slowly, after the answer.
		var s seen
		buf := make([]byte, 64<<10)
		for {
			time.Sleep(time.Millisecond)
			k, err := r.Body.Read(buf)
			for _, c := range buf[:k] {
				if c != 0x5a {
					s.bad = true
				}
			}
			s.n += k
			if err != nil {
				break
			}
		}
		got <- s
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	nurl := gbswire.NURL{SPKIHash: gbswire.SPKIHash(cert.Leaf), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Swissnum: "sw"}
	c, err := New(nurl.String(), Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusConflict} {
		for _, size := range []int{100 << 10, 8 << 20} {
			for _, pieces := range []int{1, 5} {
				t.Run(fmt.Sprintf("%d/%dKiB/%d pieces", code, size>>10, pieces), func(t *testing.T) {
					status.Lock()
					status.code = code
					status.Unlock()
					data := bytes.Repeat([]byte{0x5a}, size)
					var bufs [][]byte
					for i := range pieces {
						bufs = append(bufs, data[i*size/pieces:(i+1)*size/pieces])
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if pieces == 1 {
						_, err = c.WriteShareChunk(ctx, testSI("body"), 0, []byte("secret"), 0, data)
					} else {
						_, err = c.WriteShareChunkVec(ctx, testSI("body"), 0, []byte("secret"), 0, bufs)
					}
					if (err == nil) != (code == http.StatusOK) {
						t.Errorf("status %d: error %v", code, err)
					}
					// The caller reuses its buffers at once.
					for i := range data {
						data[i] = 0xee
					}
					s := <-got
					if s.bad {
						t.Fatalf("the server read bytes overwritten after the write returned (%d of %d read)", s.n, size)
					}
					// The client may cut the body short: net/http drops a
					// connection answered before its request was sent.
					if s.n > size {
						t.Fatalf("the server read %d of %d bytes", s.n, size)
					}
				})
			}
		}
	}

}

// TestReadShareChunkInto: reads into the caller's buffer, over GBS and
// from the store directly, give what ReadShareChunk gives, for ranges
// inside, across and past the end of the share.
func TestReadShareChunkInto(t *testing.T) {
	ctx := context.Background()
	ts := newServer(t)
	c := newClient(t, ts.nurl)
	si := testSI("into")
	data := make([]byte, 300_001)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	if _, err := c.AllocateBuckets(ctx, si, lease, []byte("s"), []int{0}, uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteShareChunk(ctx, si, 0, []byte("s"), 0, data); err != nil {
		t.Fatal(err)
	}
	n := len(data)
	for _, r := range [][2]int{{0, 1}, {0, n}, {1, n - 1}, {12345, 65536}, {n - 10, 10}, {n - 10, 100}, {n, 5}, {n + 100, 5}, {0, n + 7}} {
		want, err := c.ReadShareChunk(ctx, si, 0, uint64(r[0]), uint64(r[1]))
		if err != nil {
			t.Fatal(err)
		}
		for name, read := range map[string]func([]byte) (int, error){
			"gbs":   func(p []byte) (int, error) { return c.ReadShareChunkInto(ctx, si, 0, uint64(r[0]), p) },
			"store": func(p []byte) (int, error) { return ts.local.ReadShareChunkInto(ctx, si, 0, uint64(r[0]), p) },
		} {
			p := bytes.Repeat([]byte{0xcc}, r[1])
			k, err := read(p)
			if err != nil {
				t.Fatalf("%s %v: %v", name, r, err)
			}
			if !bytes.Equal(p[:k], want) {
				t.Fatalf("%s %v: read %d bytes, not the %d ReadShareChunk gives", name, r, k, len(want))
			}
			for _, b := range p[k:] {
				if b != 0xcc {
					t.Fatalf("%s %v: wrote past the %d bytes read", name, r, k)
				}
			}
		}
	}
}
