package gbsserver_test

// The hostile-client suite: what a client can make the server do is
// bounded. Malformed, oversized and cross-type requests get one 4xx and no
// more; stalled bodies are cut off and their uploads reaped; the memory of
// bodies in flight and the disk an attacker can fill are bounded; and
// through all of it the server keeps answering other clients.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	. "github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// alive checks that an honest client is still served.
func (g *gbsTest) alive() {
	g.t.Helper()
	if resp, body := g.do("GET", "/storage/v1/version", nil, nil); resp.StatusCode != 200 {
		g.t.Fatalf("server no longer answers: %d %s", resp.StatusCode, body)
	}
}

func rtwHeaders() hdr {
	return hdr{"X-Tahoe-Authorization": {
		"write-enabler " + b64(we32), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32),
	}}
}

func TestHostileMalformedRequests(t *testing.T) {
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{MaxChunkSize: 1 << 20, MaxMutableRequest: 1 << 20})
	// A valid allocation to aim chunk writes at.
	if resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: 100})); resp.StatusCode != 200 {
		t.Fatalf("allocate: %d %s", resp.StatusCode, body)
	}
	up := hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u"))}}
	with := func(h hdr, k, v string) hdr {
		out := hdr{}
		for kk, vv := range h {
			out[kk] = vv
		}
		out[k] = []string{v}
		return out
	}
	nested := bytes.Repeat([]byte{0x81}, 100) // arrays nested 100 deep
	bigArray := append([]byte{0x9a, 0x00, 0x10, 0x00, 0x01}, make([]byte, 16)...)
	hugeMap := []byte{0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tc := range []struct {
		name         string
		method, path string
		h            hdr
		body         []byte
		want         int
	}{
		{"unknown path", "GET", "/storage/v1/nothing", nil, nil, 404},
		{"wrong method", "DELETE", "/storage/v1/immutable/" + si1, nil, nil, 405},
		{"storage index too long", "GET", "/storage/v1/immutable/" + si1 + "a/0", nil, nil, 404},
		{"storage index not base32", "GET", "/storage/v1/immutable/AAAAAAAAAAAAAAAAAAAAAAAAA1/0", nil, nil, 404},
		{"share number huge", "GET", "/storage/v1/immutable/" + si1 + "/99999999999999999999999", nil, nil, 404},
		{"share number 256", "GET", "/storage/v1/immutable/" + si1 + "/256", nil, nil, 400},
		{"share number negative", "GET", "/storage/v1/immutable/" + si1 + "/-1", nil, nil, 404},
		{"chunk over the size limit", "PATCH", "/storage/v1/immutable/" + si1 + "/0", with(up, "Content-Range", "bytes 0-2097151/*"), nil, 413},
		{"chunk range overflowing", "PATCH", "/storage/v1/immutable/" + si1 + "/0", with(up, "Content-Range", "bytes 18446744073709551614-18446744073709551615/*"), nil, 416},
		{"chunk beyond the allocation", "PATCH", "/storage/v1/immutable/" + si1 + "/0", with(up, "Content-Range", "bytes 90-109/*"), make([]byte, 20), 413},
		{"chunk to an unallocated share", "PATCH", "/storage/v1/immutable/" + si1 + "/1", with(up, "Content-Range", "bytes 0-9/*"), make([]byte, 10), 404},
		{"chunk with the wrong secret", "PATCH", "/storage/v1/immutable/" + si1 + "/0", hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("x"))}, "Content-Range": {"bytes 0-9/*"}}, make([]byte, 10), 401},
		{"allocate with deeply nested CBOR", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), nested, 400},
		{"allocate with a huge declared array", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), bigArray, 400},
		{"allocate with a huge declared map", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), hugeMap, 400},
		{"allocate of 300 shares", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: func() ShareSet {
			s := ShareSet{}
			for i := 0; i < 300; i++ {
				s = append(s, uint64(i))
			}
			return s
		}(), AllocatedSize: 1}), 400},
		{"allocate of share 1000", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{1000}, AllocatedSize: 1}), 400},
		{"allocate of 2^64-1 bytes", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: 1<<64 - 1}), 413},
		{"allocate with a repeated share", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), []byte{0xa2, 0x6d, 's', 'h', 'a', 'r', 'e', '-', 'n', 'u', 'm', 'b', 'e', 'r', 's', 0x82, 0x01, 0x01, 0x6e, 'a', 'l', 'l', 'o', 'c', 'a', 't', 'e', 'd', '-', 's', 'i', 'z', 'e', 0x01}, 400},
		{"allocate body over the limit", "POST", "/storage/v1/immutable/" + si2, allocHeaders("u"), make([]byte, 1<<16), 413},
		{"read-test-write body over the limit", "POST", "/storage/v1/mutable/" + si2 + "/read-test-write", rtwHeaders(), make([]byte, 2<<20), 413},
		{"read-test-write with 31 read vectors", "POST", "/storage/v1/mutable/" + si2 + "/read-test-write", rtwHeaders(), mustCBOR(t, storage.ReadTestWriteRequest{ReadVector: make([]storage.ReadVector, 31)}), 400},
		{"read-test-write with garbage", "POST", "/storage/v1/mutable/" + si2 + "/read-test-write", rtwHeaders(), []byte("\xff\xff\xff"), 400},
		{"read-test-write as JSON garbage", "POST", "/storage/v1/mutable/" + si2 + "/read-test-write", with(rtwHeaders(), "Content-Type", MediaJSON), []byte("{{{"), 400},
		{"read-test-write writing past the maximum size", "POST", "/storage/v1/mutable/" + si2 + "/read-test-write", rtwHeaders(), mustCBOR(t, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 1<<64 - 10, Data: []byte("x")}}}}}), 413},
		{"secret header without a value", "POST", "/storage/v1/immutable/" + si2, hdr{"X-Tahoe-Authorization": {"upload-secret"}}, nil, 400},
		{"a thousand secret headers", "POST", "/storage/v1/immutable/" + si2, hdr{"X-Tahoe-Authorization": strings.Split(strings.Repeat("upload-secret "+b64([]byte("u"))+",", 1000), ",")}, nil, 400},
		{"advisory with an empty reason", "POST", "/storage/v1/immutable/" + si1 + "/0/corrupt", nil, mustCBOR(t, CorruptRequest{}), 400},
		{"advisory with a huge reason", "POST", "/storage/v1/immutable/" + si1 + "/0/corrupt", nil, mustCBOR(t, CorruptRequest{Reason: strings.Repeat("x", 40000)}), 413},
		{"advisory on nothing", "POST", "/storage/v1/immutable/" + si2 + "/0/corrupt", nil, mustCBOR(t, CorruptRequest{Reason: "x"}), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.do(tc.method, tc.path, tc.h, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			g.alive()
		})
	}
}

// TestHostileCrossType: over HTTP, a request of one kind for a share of
// the other gets a 4xx and changes nothing.
func TestHostileCrossType(t *testing.T) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			g := newGBSTestOver(t, k.open(t), k.plain, shares.Options{}, gbsserver.Options{})
			nl := uint64(5)
			rtw := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("mutbl")}}, NewLength: &nl}}}
			if resp, body := g.do("POST", "/storage/v1/mutable/"+si1+"/read-test-write", rtwHeaders(), mustCBOR(t, rtw)); resp.StatusCode != 200 {
				t.Fatalf("plant mutable: %d %s", resp.StatusCode, body)
			}
			if resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0, 1}, AllocatedSize: 5})); resp.StatusCode != 200 || !bytes.Contains(body, []byte{0xd9, 0x01, 0x02, 0x81, 0x01}) {
				t.Fatalf("allocate next to a mutable share: %d %x (want only share 1 allocated)", resp.StatusCode, body)
			}
			if resp, _ := g.do("PATCH", "/storage/v1/immutable/"+si1+"/1", hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u"))}, "Content-Range": {"bytes 0-4/5"}}, []byte("immut")); resp.StatusCode != 201 {
				t.Fatalf("plant immutable: %d", resp.StatusCode)
			}
			over := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{1: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("x")}}}}}
			for _, tc := range []struct {
				name, method, path string
				h                  hdr
				body               []byte
				want               int
				wantBody           string
			}{
				{"immutable read of the mutable share", "GET", "/storage/v1/immutable/" + si1 + "/0", nil, nil, 404, ""},
				{"mutable read of the immutable share", "GET", "/storage/v1/mutable/" + si1 + "/1", nil, nil, 404, ""},
				{"immutable advisory on the mutable share", "POST", "/storage/v1/immutable/" + si1 + "/0/corrupt", nil, mustCBOR(t, CorruptRequest{Reason: "x"}), 404, ""},
				{"mutable advisory on the immutable share", "POST", "/storage/v1/mutable/" + si1 + "/1/corrupt", nil, mustCBOR(t, CorruptRequest{Reason: "x"}), 404, ""},
				{"abort on the mutable share", "PUT", "/storage/v1/immutable/" + si1 + "/0/abort", hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u"))}}, nil, 404, ""},
				{"write over the immutable share", "POST", "/storage/v1/mutable/" + si1 + "/read-test-write", rtwHeaders(), mustCBOR(t, over), 409, ""},
				{"immutable list", "GET", "/storage/v1/immutable/" + si1 + "/shares", hdr{"Accept": {MediaJSON}}, nil, 200, "[1]"},
				{"mutable list", "GET", "/storage/v1/mutable/" + si1 + "/shares", hdr{"Accept": {MediaJSON}}, nil, 200, "[0]"},
				{"immutable read", "GET", "/storage/v1/immutable/" + si1 + "/1", nil, nil, 200, "immut"},
				{"mutable read", "GET", "/storage/v1/mutable/" + si1 + "/0", nil, nil, 200, "mutbl"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := g.do(tc.method, tc.path, tc.h, tc.body)
					if resp.StatusCode != tc.want || tc.wantBody != "" && string(body) != tc.wantBody {
						t.Fatalf("status %d (%s), want %d %s", resp.StatusCode, body, tc.want, tc.wantBody)
					}
				})
			}
		})
	}
}

// rawRequest opens a TLS connection to g and sends the head of a request
// with the given headers and the first part of its body; the caller stalls
// or continues.
func (g *gbsTest) rawRequest(method, path string, h hdr, contentLength int, first []byte) *tls.Conn {
	g.t.Helper()
	conn, err := tls.Dial("tcp", g.srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: gbs\r\nAuthorization: %s\r\nContent-Length: %d\r\n", method, path, AuthorizationHeader(testSwissnum), contentLength)
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(b.String()), first...)); err != nil {
		g.t.Fatal(err)
	}
	return conn
}

// status reads the status code of the response on conn, waiting at most d.
func status(t *testing.T, conn *tls.Conn, d time.Duration) int {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0 // closed or timed out
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestHostileStalledBodies: a body that stops arriving is cut off after
// the body read timeout (408), the server answers others meanwhile, and
// the stalled upload is reaped, its reserved space released and its
// incoming file removed.
func TestHostileStalledBodies(t *testing.T) {
	for _, k := range serverKinds[:2] {
		t.Run(k.name, func(t *testing.T) { testStalledBodies(t, k.name) })
	}
}

func testStalledBodies(t *testing.T, kind string) {
	dir := t.TempDir()
	var b backend.Backend = mem.New(mem.Options{Capacity: 1 << 30})
	if kind == "disk" {
		d, err := disk.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		b = d
	}
	var now atomic.Int64
	now.Store(time.Unix(1_800_000_000, 0).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	g := newGBSTestOver(t, b, false, shares.Options{Now: clock}, gbsserver.Options{BodyReadTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	before, _ := g.store.Version(ctx)

	const size = 1 << 20
	if resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: size})); resp.StatusCode != 200 {
		t.Fatalf("allocate: %d %s", resp.StatusCode, body)
	}
	if during, _ := g.store.Version(ctx); kind == "mem" && before.AvailableSpace-during.AvailableSpace != size {
		t.Fatalf("allocation reserved %d bytes, want %d", before.AvailableSpace-during.AvailableSpace, size)
	}
	// A chunk that stalls after 10 bytes, and a read-test-write body that
	// stalls after 10.
	patch := g.rawRequest("PATCH", "/storage/v1/immutable/"+si1+"/0", hdr{
		"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u"))},
		"Content-Range":         {fmt.Sprintf("bytes 0-%d/%d", size-1, size)},
	}, size, make([]byte, 10))
	rtw := g.rawRequest("POST", "/storage/v1/mutable/"+si2+"/read-test-write", rtwHeaders(), 100000, make([]byte, 10))
	start := time.Now()
	g.alive() // answered while both stall
	if code := status(t, patch, 10*time.Second); code != 408 {
		t.Errorf("stalled chunk answered %d, want 408", code)
	}
	if code := status(t, rtw, 10*time.Second); code != 408 {
		t.Errorf("stalled read-test-write answered %d, want 408", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stalled bodies held the server for %v", d)
	}
	g.alive()
	// The upload is idle now: the reaper frees it.
	now.Add(int64(31 * time.Minute))
	if n := g.store.AbortIdleUploads(30 * time.Minute); n != 1 {
		t.Fatalf("reaped %d stalled uploads, want 1", n)
	}
	if after, _ := g.store.Version(ctx); kind == "mem" && after.AvailableSpace != before.AvailableSpace {
		t.Errorf("space not released: %d before, %d after", before.AvailableSpace, after.AvailableSpace)
	}
	if kind == "disk" {
		if ents, _ := os.ReadDir(filepath.Join(dir, "shares", "incoming")); len(ents) != 0 {
			t.Errorf("incoming/ keeps %d entries after the reap", len(ents))
		}
	}
	// The share can be uploaded afresh.
	if resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("v"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: size})); resp.StatusCode != 200 || !bytes.Contains(body, []byte{0xd9, 0x01, 0x02, 0x81, 0x00}) {
		t.Errorf("re-allocate after the reap: %d %x", resp.StatusCode, body)
	}
}

// heapPeak samples the live heap every millisecond until stop is closed.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// stallingBody yields all of data but its last byte, then waits for
// release before the last byte: a client holding its request open.
type stallingBody struct {
	data    []byte
	off     int
	release <-chan struct{}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.off == len(b.data) {
		return 0, io.EOF
	}
	if b.off == len(b.data)-1 {
		<-b.release
	}
	end := len(b.data) - 1
	if b.off == end {
		end++
	}
	n := copy(p, b.data[b.off:end])
	b.off += n
	return n, nil
}

// TestHostileBodyMemoryBound: many large read-test-write bodies held open
// at once are read a few at a time, within the server's body-memory
// budget (the rest wait, unread, in the network); all are answered once
// their clients finish, and the heap stays bounded meanwhile.
func TestHostileBodyMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const (
		body    = 512 << 10
		budget  = 2 << 20
		clients = 32
	)
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{MaxMutableRequest: body + 1024, MaxBodyMemory: budget, BodyReadTimeout: 30 * time.Second})
	// A failing test vector: decoded, tested, nothing written.
	enc := mustCBOR(t, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {
		Test:  []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte("x")}},
		Write: []storage.WriteVector{{Offset: 0, Data: make([]byte, body)}},
	}}})
	g.alive()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	peak := heapPeak(stop)
	release := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", g.srv.URL+"/storage/v1/mutable/"+si2+"/read-test-write", &stallingBody{data: enc, release: release})
			req.ContentLength = int64(len(enc))
			req.Header.Set("Authorization", AuthorizationHeader(testSwissnum))
			for _, v := range rtwHeaders()["X-Tahoe-Authorization"] {
				req.Header.Add("X-Tahoe-Authorization", v)
			}
			resp, err := g.srv.Client().Do(req)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	// Every client has sent all it will until released; an unbounded
	// server would now hold every body it has read so far.
	time.Sleep(1500 * time.Millisecond)
	g.alive() // small requests still get through
	close(stop)
	grown := int64(<-peak) - int64(base)
	close(release)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("client %d: status %d", i, c)
		}
	}
	// Unbounded, 32 open 512 KiB bodies hold over 16 MiB; within a 2 MiB
	// budget the server reads four at a time, plus TLS buffers.
	if limit := int64(12 << 20); grown > limit {
		t.Errorf("heap grew by %d MiB, want under %d MiB", grown>>20, limit>>20)
	}
	t.Logf("heap grew by %.1f MiB with %d open %d KiB bodies", float64(grown)/(1<<20), clients, body>>10)
	g.alive()
}

// TestHostileManyConnections: hundreds of idle connections (and
// connections that send half a request head) do not stop the server
// answering an honest client; closing them frees their goroutines.
func TestHostileManyConnections(t *testing.T) {
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{})
	g.alive()
	baseline := runtime.NumGoroutine()
	var conns []*tls.Conn
	for i := 0; i < 200; i++ {
		c, err := tls.Dial("tcp", g.srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 {
			c.Write([]byte("GET /storage/v1/version HTTP/1.1\r\nHost: x\r\n")) // never finished
		}
		conns = append(conns, c)
	}
	start := time.Now()
	g.alive()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("honest request took %v behind 200 hostile connections", d)
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline+20 {
		t.Errorf("%d goroutines after closing, %d before", n, baseline)
	}
}

// diskUse is the space the files under dir occupy (allocated blocks).
func diskUse(t *testing.T, dir string) int64 {
	var total int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}

// TestHostileDiskBound: a client cannot make the server write more than
// it asked to store: a tiny read-test-write far past the end of a mutable
// share extends it sparsely (the hole reads as zeros, occupying nothing),
// one beyond the maximum mutable share size is refused, and allocations
// beyond the space left are not made.
func TestHostileDiskBound(t *testing.T) {
	dir := t.TempDir()
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	g := newGBSTestOver(t, b, false, shares.Options{}, gbsserver.Options{})
	ctx := context.Background()
	v, _ := g.store.Version(ctx)
	const far = 8 << 30 // 8 GiB
	if v.AvailableSpace < far+(1<<20) {
		t.Skipf("only %d bytes free: the sparse case needs more than 8 GiB of (unused) free space", v.AvailableSpace)
	}
	used := diskUse(t, dir)
	start := time.Now()
	rtw := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("head")}, {Offset: far, Data: []byte("tail")}}}}}
	if resp, body := g.do("POST", "/storage/v1/mutable/"+si1+"/read-test-write", rtwHeaders(), mustCBOR(t, rtw)); resp.StatusCode != 200 {
		t.Fatalf("far write: %d %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 4-byte write 8 GiB out took %v", d)
	}
	if grown := diskUse(t, dir) - used; grown > 1<<20 {
		t.Errorf("a 4-byte write 8 GiB out took %d bytes of disk", grown)
	}
	resp, body := g.do("GET", "/storage/v1/mutable/"+si1+"/0", hdr{"Range": {fmt.Sprintf("bytes=%d-%d", far-4, far+3)}}, nil)
	if resp.StatusCode != 206 || string(body) != "\x00\x00\x00\x00tail" {
		t.Fatalf("read around the far write: %d %q", resp.StatusCode, body)
	}
	resp, body = g.do("GET", "/storage/v1/mutable/"+si1+"/0", hdr{"Range": {"bytes=0-7"}}, nil)
	if resp.StatusCode != 206 || string(body) != "head\x00\x00\x00\x00" {
		t.Fatalf("read of the head: %d %q", resp.StatusCode, body)
	}
	beyond := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{1: {Write: []storage.WriteVector{{Offset: shares.MaxMutableShareSize, Data: []byte("x")}}}}}
	if resp, _ := g.do("POST", "/storage/v1/mutable/"+si1+"/read-test-write", rtwHeaders(), mustCBOR(t, beyond)); resp.StatusCode != 413 {
		t.Errorf("write past the maximum mutable share size: %d, want 413", resp.StatusCode)
	}
	// Three shares of 60% of the free space each: only one fits.
	resp, body = g.do("POST", "/storage/v1/immutable/"+si2, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0, 1, 2}, AllocatedSize: v.AvailableSpace / 10 * 6}))
	var res AllocateResponse
	if resp.StatusCode != 200 || UnmarshalCBOR(body, &res) != nil || len(res.Allocated) != 1 {
		t.Errorf("allocation beyond the free space: %d %+v", resp.StatusCode, res)
	}
	g.alive()
}

// TestNoSecretsInLogs: at every level, the server's log names no secret a
// client sent, whatever the request.
func TestNoSecretsInLogs(t *testing.T) {
	rec := &recordingHandler{}
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{})
	g2 := newGBSTestOver(t, openMem(t), false, shares.Options{Logger: newLogger(rec)}, gbsserver.Options{Logger: newLogger(rec)})
	_ = g
	secrets := [][]byte{renew32, cancel32, we32, []byte("upload-secret-value")}
	up := "upload-secret " + b64(secrets[3])
	g2.do("POST", "/storage/v1/immutable/"+si1, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64(renew32), "lease-cancel-secret " + b64(cancel32), up}}, mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: 4}))
	g2.do("PATCH", "/storage/v1/immutable/"+si1+"/0", hdr{"X-Tahoe-Authorization": {up}, "Content-Range": {"bytes 0-3/4"}}, []byte("data"))
	g2.do("PATCH", "/storage/v1/immutable/"+si1+"/0", hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("wrong"))}, "Content-Range": {"bytes 0-3/4"}}, []byte("data"))
	g2.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", rtwHeaders(), mustCBOR(t, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("x")}}}}}))
	g2.do("POST", "/storage/v1/mutable/"+si2+"/read-test-write", hdr{"X-Tahoe-Authorization": {"write-enabler " + b64(bytes.Repeat([]byte{9}, 32)), "lease-cancel-secret " + b64(cancel32), "lease-renew-secret " + b64(renew32)}}, mustCBOR(t, storage.ReadTestWriteRequest{}))
	g2.do("PUT", "/storage/v1/lease/"+si1, hdr{"X-Tahoe-Authorization": {"lease-renew-secret " + b64(renew32), "lease-cancel-secret " + b64(cancel32)}}, nil)
	g2.do("GET", "/storage/v1/version", hdr{"Authorization": {AuthorizationHeader("not-the-swissnum")}}, nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.records) == 0 {
		t.Fatal("nothing logged")
	}
	for _, r := range rec.records {
		line := recordText(r)
		for _, s := range secrets {
			for _, form := range []string{string(s), b64(s), fmt.Sprintf("%x", s)} {
				if strings.Contains(line, form) {
					t.Errorf("log record %q contains a secret", line)
				}
			}
		}
		for _, sw := range []string{testSwissnum, "not-the-swissnum", b64([]byte(testSwissnum))} {
			if strings.Contains(line, sw) {
				t.Errorf("log record %q contains a swissnum", line)
			}
		}
	}
}

// TestHostileSlowReader: a client that asks for a large share and stops
// reading is cut off after the response write timeout; the server goes on
// answering others.
func TestHostileSlowReader(t *testing.T) {
	rec := &recordingHandler{}
	g := newGBSTestOver(t, openMem(t), false, shares.Options{}, gbsserver.Options{ResponseWriteTimeout: 300 * time.Millisecond, Logger: newLogger(rec)})
	const size = 8 << 20
	if resp, body := g.do("POST", "/storage/v1/immutable/"+si1, allocHeaders("u"), mustCBOR(t, AllocateRequest{ShareNumbers: ShareSet{0}, AllocatedSize: size})); resp.StatusCode != 200 {
		t.Fatalf("allocate: %d %s", resp.StatusCode, body)
	}
	if resp, body := g.do("PATCH", "/storage/v1/immutable/"+si1+"/0", hdr{"X-Tahoe-Authorization": {"upload-secret " + b64([]byte("u"))}, "Content-Range": {fmt.Sprintf("bytes 0-%d/%d", size-1, size)}}, make([]byte, size)); resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	conn := g.rawRequest("GET", "/storage/v1/immutable/"+si1+"/0", nil, 0, nil)
	_ = conn // never read
	done := func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, r := range rec.records {
			if strings.Contains(recordText(r), "method=GET path=/storage/v1/immutable/"+si1+"/0 ") {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		g.alive()
	}
	if !done() {
		t.Fatal("the read to a client that stopped reading never ended")
	}
}
