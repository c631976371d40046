package gbs

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

const mib = 1 << 20

// uploadShare writes data as share 0 of a fresh storage index in chunks.
func uploadShare(ctx context.Context, c *Client, seq uint64, data []byte, chunk int) error {
	var si storage.StorageIndex
	binary.BigEndian.PutUint64(si[:], seq)
	copy(si[8:], "bench")
	secret := si[:]
	res, err := c.AllocateBuckets(ctx, si, lease, secret, []int{0}, uint64(len(data)))
	if err != nil {
		return err
	}
	if len(res.Allocated) != 1 {
		return fmt.Errorf("not allocated: %+v", res)
	}
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		wr, err := c.WriteShareChunk(ctx, si, 0, secret, uint64(off), data[off:end])
		if err != nil {
			return err
		}
		if wr.Complete != (end == len(data)) {
			return fmt.Errorf("complete=%v at %d", wr.Complete, end)
		}
	}
	return nil
}

var benchSeq atomic.Uint64

// BenchmarkUpload64MiB writes one 64 MiB share over loopback TLS in the
// spec's 128 KiB chunks (and 1 MiB chunks), against a plain io.Copy of the
// same bytes over a TLS connection with the same certificate.
func BenchmarkUpload64MiB(b *testing.B) {
	data := randBytes(64 * mib)
	ts := newServer(b)
	for _, chunk := range []int{128 << 10, 1 * mib} {
		b.Run(fmt.Sprintf("gbs-chunk=%dKiB", chunk>>10), func(b *testing.B) {
			c := newClient(b, ts.nurl)
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := uploadShare(ctx, c, benchSeq.Add(1), data, chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("baseline-tls-io.Copy", func(b *testing.B) {
		dir := b.TempDir()
		c, k, _ := node.GenerateCertificate()
		os.WriteFile(filepath.Join(dir, "c"), c, 0o600)
		os.WriteFile(filepath.Join(dir, "k"), k, 0o600)
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "c"), filepath.Join(dir, "k"))
		if err != nil {
			b.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			for {
				if _, err := io.CopyN(io.Discard, conn, int64(len(data))); err != nil {
					return
				}
				conn.Write([]byte{1})
			}
		}()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, VerifyConnection: pinSPKI(gbswire.SPKIHash(cert.Leaf))})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		ack := make([]byte, 1)
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := io.Copy(conn, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(conn, ack); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAllocate measures small allocations (one 1 KiB share per fresh
// storage index) over GBS, serially and from parallel clients.
func BenchmarkAllocate(b *testing.B) {
	ts := newServer(b)
	ctx := context.Background()
	run := func(b *testing.B, c *Client) error {
		var si storage.StorageIndex
		binary.BigEndian.PutUint64(si[:], benchSeq.Add(1))
		res, err := c.AllocateBuckets(ctx, si, lease, []byte("u"), []int{0}, 1024)
		if err == nil && len(res.Allocated) != 1 {
			err = fmt.Errorf("not allocated")
		}
		return err
	}
	b.Run("serial", func(b *testing.B) {
		c := newClient(b, ts.nurl)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if err := run(b, c); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "allocs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		c := newClient(b, ts.nurl)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := run(b, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "allocs/s")
	})
}

// BenchmarkConcurrentUploads runs 100 uploads at once and reports the peak
// heap in use: it should not grow with the share size (the server streams).
func BenchmarkConcurrentUploads(b *testing.B) {
	ts := newServer(b)
	ctx := context.Background()
	const uploads = 100
	for _, size := range []int{1 * mib, 4 * mib} {
		b.Run(fmt.Sprintf("100x%dMiB", size/mib), func(b *testing.B) {
			data := randBytes(size) // shared, read-only: client memory stays constant
			c := newClient(b, ts.nurl)
			runtime.GC()
			var peak atomic.Uint64
			stop := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Add(1)
			go func() {
				defer sampler.Done()
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			b.SetBytes(int64(size * uploads))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				errs := make(chan error, uploads)
				for j := 0; j < uploads; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := uploadShare(ctx, c, benchSeq.Add(1), data, 128<<10); err != nil {
							errs <- err
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			sampler.Wait()
			b.ReportMetric(float64(peak.Load())/mib, "peak-heap-MiB")
		})
	}
}
