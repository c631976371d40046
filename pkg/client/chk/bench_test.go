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

	"github.com/lafs/lafs/pkg/caps"
)

// patternReader is an io.ReaderAt over size bytes of a cheap pattern, so
// benchmarks of large files do not hold them in memory. It copies from a
// table whose length is not a power of two, so no two segments are alike,
// and costs about a memmove: the benchmarks measure the codec, not it.
type patternReader struct{ size int64 }

// patternLen is the period of the pattern.
const patternLen = 1<<20 + 4093

var patternTable = func() []byte {
	t := make([]byte, patternLen)
	for i := range t {
		t[i] = byte((uint64(i) * 0x9E3779B97F4A7C15) >> 56)
	}
	return t
}()

func (p patternReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.size-off)
	for done := int64(0); done < n; {
		done += int64(copy(b[done:n], patternTable[(off+done)%patternLen:]))
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

// loopCPU runs the benchmark loop and also reports the CPU time of each
// iteration (all goroutines), which a loaded machine disturbs less than
// the wall time: together they show how much work an operation is and
// how well it spreads over the cores.
func loopCPU(b *testing.B, f func()) {
	b.ReportAllocs()
	start := processCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if cpu := processCPU() - start; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/op")
	}
}

// BenchmarkSHA256 is the machine's floor over the same number of bytes.
func BenchmarkSHA256(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	loopCPU(b, func() {
		h := sha256.New()
		for i := 0; i < benchSize>>20; i++ {
			h.Write(buf)
		}
		h.Sum(nil)
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, kn := range [][2]int{{3, 10}, {1, 1}} {
		b.Run(fmt.Sprintf("%d-of-%d", kn[0], kn[1]), func(b *testing.B) {
			p := Params{Needed: kn[0], Total: kn[1], MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("bench")}
			b.SetBytes(benchSize)
			loopCPU(b, func() {
				if _, err := Encode(context.Background(), patternReader{benchSize}, benchSize, p, Discard); err != nil {
					b.Fatal(err)
				}
			})
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
				loopCPU(b, func() {
					if err := Decode(context.Background(), r.Cap, use, io.Discard, DecodeOptions{}); err != nil {
						b.Fatal(err)
					}
				})
			})
			if kn[1] == 1 {
				break
			}
		}
	}
}

// BenchmarkKey is the convergent-key pass alone: one SHA-256d chain over
// the file, which nothing can split (its floor is BenchmarkSHA256).
func BenchmarkKey(b *testing.B) {
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("bench")}
	b.SetBytes(benchSize)
	loopCPU(b, func() {
		if _, err := Key(context.Background(), patternReader{benchSize}, benchSize, p); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBlockHashes is the block hashes of one 3-of-10 segment (ten
// blocks of 43,691 bytes), two at a time, against one at a time.
func BenchmarkBlockHashes(b *testing.B) {
	blocks := make([][]byte, 10)
	for i := range blocks {
		blocks[i] = make([]byte, 43691)
		patternReader{1 << 30}.ReadAt(blocks[i], int64(i)*43691)
	}
	b.Run("paired", func(b *testing.B) {
		b.SetBytes(10 * 43691)
		for b.Loop() {
			blockHashes(blocks)
		}
	})
	b.Run("single", func(b *testing.B) {
		b.SetBytes(10 * 43691)
		for b.Loop() {
			for _, blk := range blocks {
				caps.TaggedHash(caps.TagBlock, blk, 0)
			}
		}
	})
}
