package webapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

// benchStore is a direct store on an embedded grid of 10 servers with
// Tahoe's default encoding (3-of-10, 1 MiB segments).
func benchStore(b *testing.B) filestore.Store {
	b.Helper()
	return localgridtest.New(b, localgridtest.Options{Servers: 10, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 1 << 20},
		Convergence: []byte("bench"), LeaseSecret: []byte("l")}).Store
}

// genData is size bytes of deterministic, incompressible-looking data made
// on the fly from the offset, so neither side of a benchmark holds the
// file in memory.
type genData struct{ size, off, seed int64 }

func (g *genData) word(w int64) uint64 {
	x := uint64(w) ^ uint64(g.seed)*0x9e3779b97f4a7c15
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

func (g *genData) ReadAt(p []byte, off int64) (int, error) {
	if off >= g.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), g.size-off)
	for i := int64(0); i < n; {
		pos := off + i
		x := g.word(pos / 8)
		for k := pos % 8; k < 8 && i < n; k++ {
			p[i] = byte(x >> (8 * uint(k)))
			i++
		}
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

func (g *genData) Read(p []byte) (int, error) {
	n, err := g.ReadAt(p, g.off)
	g.off += int64(n)
	return n, err
}

// peakRSS resets the kernel's peak-RSS mark and returns a function that
// reads it (MiB); ok is false where /proc does not offer it.
func peakRSS() (read func() float64, ok bool) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return nil, false
	}
	return func() float64 {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
		return 0
	}, true
}

// BenchmarkLargeFile puts and gets one file through the web API on the
// local grid, beside the same operation on the store directly, in the same
// run. Size: LAFS_BENCH_MIB MiB (default 64).
func BenchmarkLargeFile(b *testing.B) {
	mib := int64(64)
	if v, err := strconv.ParseInt(os.Getenv("LAFS_BENCH_MIB"), 10, 64); err == nil && v > 0 {
		mib = v
	}
	size := mib << 20
	ctx := context.Background()
	st := benchStore(b)
	srv, err := New(Options{Store: st, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	seed := int64(0)
	var lastCap string
	report := func(b *testing.B, rss func() float64) {
		if rss != nil {
			b.ReportMetric(rss(), "peakRSS-MiB")
		}
	}
	b.Run(fmt.Sprintf("direct/put-%dMiB", mib), func(b *testing.B) {
		b.SetBytes(size)
		rss, _ := peakRSS()
		for b.Loop() {
			seed++
			res, err := st.Upload(ctx, &genData{size: size, seed: seed}, size, filestore.UploadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			lastCap = res.Cap.String()
		}
		report(b, rss)
	})
	b.Run(fmt.Sprintf("webapi/put-%dMiB", mib), func(b *testing.B) {
		b.SetBytes(size)
		rss, _ := peakRSS()
		for b.Loop() {
			seed++
			req, _ := http.NewRequest("PUT", hs.URL+"/uri", &genData{size: size, seed: seed})
			req.ContentLength = size
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("PUT: %d %s", resp.StatusCode, body)
			}
			lastCap = string(body)
		}
		report(b, rss)
	})
	if lastCap == "" { // the put benchmarks were filtered out
		res, err := st.Upload(ctx, &genData{size: size, seed: -1}, size, filestore.UploadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		lastCap = res.Cap.String()
	}
	c, err := parseURLCap(lastCap)
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("direct/get-%dMiB", mib), func(b *testing.B) {
		b.SetBytes(size)
		rss, _ := peakRSS()
		for b.Loop() {
			if err := st.Download(ctx, c, io.Discard, filestore.DownloadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, rss)
	})
	b.Run(fmt.Sprintf("webapi/get-%dMiB", mib), func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, 1<<20) // a client reading in large pieces, as Tahoe's CLI does
		rss, _ := peakRSS()
		for b.Loop() {
			resp, err := http.Get(hs.URL + "/uri/" + u(lastCap))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(discard{}, resp.Body, buf)
			resp.Body.Close()
			if err != nil || n != size || resp.StatusCode != 200 {
				b.Fatalf("GET: %d %d %v", resp.StatusCode, n, err)
			}
		}
		report(b, rss)
	})
}

// discard is io.Discard without its ReadFrom (which reads in 8 KiB
// pieces), so the copy uses the caller's buffer.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkSmallFiles puts 4 KiB files into a directory, through the web
// API (PUT /uri/$DIRCAP/NAME) and directly (Upload + Link), and reports
// files per second. One op is a batch of smallBatch files, so -benchtime=1x
// still measures something.
func BenchmarkSmallFiles(b *testing.B) {
	const smallBatch = 25
	ctx := context.Background()
	st := benchStore(b)
	srv, err := New(Options{Store: st, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	data := bytes.Repeat([]byte("4KiB"), 1024)
	n := 0
	b.Run("direct/put-4KiB-into-dir", func(b *testing.B) {
		dir, err := st.Mkdir(ctx, filestore.MkdirOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for range smallBatch {
				n++
				buf := append([]byte(strconv.Itoa(n)), data...)[:4096]
				res, err := st.Upload(ctx, bytes.NewReader(buf), int64(len(buf)), filestore.UploadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := st.Link(ctx, dir, "f"+strconv.Itoa(n), res.Cap, false); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*smallBatch)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("webapi/put-4KiB-into-dir", func(b *testing.B) {
		dir, err := st.Mkdir(ctx, filestore.MkdirOptions{})
		if err != nil {
			b.Fatal(err)
		}
		base := hs.URL + "/uri/" + u(dir.String()) + "/"
		for b.Loop() {
			for range smallBatch {
				n++
				buf := append([]byte(strconv.Itoa(n)), data...)[:4096]
				req, _ := http.NewRequest("PUT", base+"f"+strconv.Itoa(n), bytes.NewReader(buf))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("PUT: %d", resp.StatusCode)
				}
			}
		}
		b.ReportMetric(float64(b.N*smallBatch)/b.Elapsed().Seconds(), "files/s")
	})
}
