package chk

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// patternReader is an io.ReaderAt over size bytes of a cheap pattern, so
// benchmarks of large files do not hold them in memory.
type patternReader struct{ size int64 }

func (p patternReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := int64(len(b))
	if off+n > p.size {
		n = p.size - off
	}
	for i := int64(0); i < n; i++ {
		x := uint64(off+i) * 0x9E3779B97F4A7C15
		b[i] = byte(x >> 56)
	}
	if n < int64(len(b)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// peakHeap samples the live heap while f runs.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

const benchSize = 64 << 20

// BenchmarkSHA256 is the machine's floor over the same number of bytes.
func BenchmarkSHA256(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	for b.Loop() {
		h := sha256.New()
		for i := 0; i < benchSize>>20; i++ {
			h.Write(buf)
		}
		h.Sum(nil)
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, kn := range [][2]int{{3, 10}, {1, 1}} {
		b.Run(fmt.Sprintf("%d-of-%d", kn[0], kn[1]), func(b *testing.B) {
			p := Params{Needed: kn[0], Total: kn[1], MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("bench")}
			b.SetBytes(benchSize)
			for b.Loop() {
				if _, err := Encode(context.Background(), patternReader{benchSize}, benchSize, p, Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, kn := range [][2]int{{3, 10}, {1, 1}} {
		p := Params{Needed: kn[0], Total: kn[1], MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("bench")}
		sink := newMemSink()
		r, err := Encode(context.Background(), patternReader{benchSize}, benchSize, p, sink)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{"primary", "parity"} {
			use := map[int]ShareReader{}
			for n := 0; n < kn[0]; n++ {
				sh := n
				if name == "parity" {
					sh = kn[1] - 1 - n
				}
				use[sh] = BytesShare(sink.shares[sh])
			}
			b.Run(fmt.Sprintf("%d-of-%d-%s", kn[0], kn[1], name), func(b *testing.B) {
				b.SetBytes(benchSize)
				for b.Loop() {
					if err := Decode(context.Background(), r.Cap, use, io.Discard, DecodeOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			if kn[1] == 1 {
				break
			}
		}
	}
}

// TestEncodeMemoryFlat checks that encoding holds a few segments, not the
// file: the peak heap for 256 MiB stays close to that for 16 MiB.
func TestEncodeMemoryFlat(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow; run without -short and without -race")
	}
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("mem")}
	peaks := map[int64]uint64{}
	for _, size := range []int64{16 << 20, 256 << 20} {
		runtime.GC()
		peaks[size] = peakHeap(func() {
			if _, err := Encode(context.Background(), patternReader{size}, uint64(size), p, Discard); err != nil {
				t.Error(err)
			}
		})
	}
	t.Logf("peak heap: 16 MiB file %d MiB, 256 MiB file %d MiB", peaks[16<<20]>>20, peaks[256<<20]>>20)
	if peaks[256<<20] > peaks[16<<20]+32<<20 {
		t.Fatalf("peak heap grows with the file: %v", peaks)
	}
}
