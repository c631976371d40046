package chk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
)

// flatSizes are the small and large files of the memory-flatness tests.
// The race detector makes encoding ~10x slower, so under -race the files
// are smaller; the bound still catches a codec that holds the file.
func flatSizes() (small, large int64) {
	if raceEnabled {
		return 8 << 20, 64 << 20
	}
	return 16 << 20, 256 << 20
}

// flatSlack is how much more the large file may peak at than the small one.
const flatSlack = 32 << 20

// TestEncodeMemoryFlat checks that encoding holds a few segments, not the
// file: the peak heap for the large file stays close to that for the small
// one.
func TestEncodeMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow; run without -short")
	}
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("mem")}
	small, large := flatSizes()
	peaks := map[int64]uint64{}
	for _, size := range []int64{small, large} {
		settle()
		peaks[size] = peakHeap(func() {
			if _, err := Encode(context.Background(), patternReader{size}, uint64(size), p, Discard); err != nil {
				t.Error(err)
			}
		})
	}
	t.Logf("peak heap: %d MiB file %d MiB, %d MiB file %d MiB", small>>20, peaks[small]>>20, large>>20, peaks[large]>>20)
	if peaks[large] > peaks[small]+flatSlack {
		t.Fatalf("peak heap grows with the file: %v", peaks)
	}
}

// settle collects the garbage of earlier work, including buffers parked
// in a sync.Pool (which survive one collection), before a measurement.
func settle() {
	runtime.GC()
	runtime.GC()
}

// fileSink writes the chosen shares to files.
type fileSink struct {
	files map[int]*os.File
}

func (s fileSink) WriteShare(sh int, off uint64, data []byte) error {
	f, ok := s.files[sh]
	if !ok {
		return nil
	}
	_, err := f.WriteAt(data, int64(off))
	return err
}

// encodeToFiles encodes size bytes of the pattern and keeps shares keep in
// files under dir.
func encodeToFiles(t testing.TB, dir string, size int64, p Params, keep []int) (*Result, map[int]ShareReader) {
	t.Helper()
	sink := fileSink{files: map[int]*os.File{}}
	rs := map[int]ShareReader{}
	for _, sh := range keep {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("share-%d-%d", size, sh)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		sink.files[sh] = f
		rs[sh] = ReaderAtShare{f}
	}
	r, err := Encode(context.Background(), patternReader{size}, uint64(size), p, sink)
	if err != nil {
		t.Fatal(err)
	}
	return r, rs
}

// patternCheck checks what Decode writes against the pattern as it goes.
type patternCheck struct {
	off int64
	buf []byte
	err error
}

func (c *patternCheck) Write(b []byte) (int, error) {
	if len(c.buf) < len(b) {
		c.buf = make([]byte, len(b))
	}
	want := c.buf[:len(b)]
	patternReader{size: c.off + int64(len(b))}.ReadAt(want, c.off)
	if c.err == nil && !bytes.Equal(want, b) {
		c.err = fmt.Errorf("plaintext differs in [%d, %d)", c.off, c.off+int64(len(b)))
	}
	c.off += int64(len(b))
	return len(b), nil
}

// TestDecodeMemoryFlat checks that decoding from share files holds a few
// segments, not the file, both from primary shares and with parity.
func TestDecodeMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow; run without -short")
	}
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("mem")}
	dir := t.TempDir()
	small, large := flatSizes()
	subsets := [][]int{{0, 1, 2}, {0, 8, 9}}
	peaks := map[string]uint64{}
	for _, size := range []int64{small, large} {
		r, files := encodeToFiles(t, dir, size, p, []int{0, 1, 2, 8, 9})
		for _, use := range subsets {
			rs := map[int]ShareReader{}
			for _, n := range use {
				rs[n] = files[n]
			}
			check := &patternCheck{}
			settle()
			peaks[fmt.Sprint(size, use)] = peakHeap(func() {
				if err := Decode(context.Background(), r.Cap, rs, check, DecodeOptions{}); err != nil {
					t.Error(err)
				}
			})
			if check.err != nil || check.off != size {
				t.Fatalf("shares %v: %d bytes decoded of %d: %v", use, check.off, size, check.err)
			}
		}
	}
	for _, use := range subsets {
		ps, pl := peaks[fmt.Sprint(small, use)], peaks[fmt.Sprint(large, use)]
		t.Logf("shares %v: peak heap %d MiB for %d MiB, %d MiB for %d MiB", use, ps>>20, small>>20, pl>>20, large>>20)
		if pl > ps+flatSlack {
			t.Errorf("shares %v: peak heap grows with the file: %d then %d bytes", use, ps, pl)
		}
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestCodecReusesSegmentMemory checks that the encoder recycles its segment
// buffers (it used to allocate and zero N/k segments' worth per segment)
// and that decoding from readers with ReadInto reads into reused buffers.
func TestCodecReusesSegmentMemory(t *testing.T) {
	const size = 32 << 20 // 32 segments
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("alloc")}
	var r *Result
	enc := allocated(func() {
		var err error
		if r, err = Encode(context.Background(), patternReader{size}, size, p, Discard); err != nil {
			t.Fatal(err)
		}
	})
	// Without reuse this is 32 × 3.3 MiB; with it, the buffers in flight:
	// the window of segments and as many queued for the flat hash, plus
	// under 1 MiB of everything else (hashers, trees, the result). Under
	// the race detector the pipeline does fill its whole window.
	perSeg := uint64(DefaultMaxSegmentSize * 10 / 3)
	_, depth := pipelineDepth(int64(perSeg))
	if limit := uint64(2*depth+2)*perSeg + 1<<20; enc > limit {
		t.Errorf("encoding %d MiB allocated %d MiB, want at most %d MiB", size>>20, enc>>20, limit>>20)
	}
	_, rs := encodeToFiles(t, t.TempDir(), size, p, []int{0, 1, 2})
	dec := allocated(func() {
		if err := Decode(context.Background(), r.Cap, rs, io.Discard, DecodeOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	_, depth = pipelineDepth(3 * DefaultMaxSegmentSize)
	if limit := uint64(depth+2) * 3 * DefaultMaxSegmentSize; dec > limit {
		t.Errorf("decoding %d MiB allocated %d MiB, want at most %d MiB", size>>20, dec>>20, limit>>20)
	}
	t.Logf("allocated: encode %d MiB, decode %d MiB for a %d MiB file", enc>>20, dec>>20, size>>20)
}

// retainSink keeps every slice it is given and copies it into place later,
// from another goroutine, before releasing it: if the encoder reused
// memory the sink still holds, the shares would come out wrong.
type retainSink struct {
	mu       sync.Mutex
	shares   map[int][]byte
	held     chan retained
	done     chan struct{}
	release  bool // call release once copied
	released atomic.Int64
}

type retained struct {
	sh      int
	off     uint64
	data    []byte
	release func()
}

func newRetainSink(release bool) *retainSink {
	s := &retainSink{shares: map[int][]byte{}, held: make(chan retained, 64), done: make(chan struct{}), release: release}
	go func() {
		defer close(s.done)
		rng := rand.New(rand.NewSource(1))
		for r := range s.held {
			if rng.Intn(4) == 0 {
				time.Sleep(time.Duration(rng.Intn(200)) * time.Microsecond)
			}
			s.mu.Lock()
			b := s.shares[r.sh]
			if need := int(r.off) + len(r.data); need > len(b) {
				b = append(b, make([]byte, need-len(b))...)
			}
			copy(b[r.off:], r.data)
			s.shares[r.sh] = b
			s.mu.Unlock()
			if s.release {
				r.release()
				s.released.Add(1)
			}
		}
	}()
	return s
}

func (s *retainSink) WriteShare(int, uint64, []byte) error {
	panic("a RetainingSink is written through WriteShareRetained")
}

func (s *retainSink) WriteShareRetained(sh int, off uint64, data []byte, release func()) error {
	s.held <- retained{sh, off, data, release}
	return nil
}

func (s *retainSink) wait() { close(s.held); <-s.done }

// TestRetainingSinkGetsStableData checks that slices handed to a retaining
// sink keep their bytes until released, whether the sink releases them
// (and the encoder recycles the memory) or never does.
func TestRetainingSinkGetsStableData(t *testing.T) {
	data := sha256ctr("retain", 300000)
	p := Params{Needed: 3, Total: 7, MaxSegmentSize: 8192, Convergence: []byte("r")}
	want, wantShares := encodeMem(t, data, p)
	for _, release := range []bool{true, false} {
		t.Run(fmt.Sprintf("release=%v", release), func(t *testing.T) {
			s := newRetainSink(release)
			r, err := Encode(context.Background(), bytes.NewReader(data), uint64(len(data)), p, s)
			s.wait()
			if err != nil {
				t.Fatal(err)
			}
			if r.Cap.String() != want.Cap.String() {
				t.Fatalf("cap %s, want %s", r.Cap, want.Cap)
			}
			for sh, b := range wantShares {
				if !bytes.Equal(s.shares[sh], b) {
					t.Fatalf("share %d differs from a plain sink's", sh)
				}
			}
			if release {
				// header + blocks + tail for every share
				if n, want := s.released.Load(), int64(p.Total*(r.Layout.NumSegments+2)); n != want {
					t.Fatalf("%d releases, want %d", n, want)
				}
			}
		})
	}
}

// tracker records ShareReader and OnBadShare calls relative to Decode's
// return, to catch work that outlives it.
type tracker struct {
	inflight atomic.Int32
	returned atomic.Bool
	late     atomic.Int32 // calls begun or still running after return
}

func (tr *tracker) enter() {
	tr.inflight.Add(1)
	if tr.returned.Load() {
		tr.late.Add(1)
	}
}

func (tr *tracker) exit() {
	if tr.returned.Load() {
		tr.late.Add(1)
	}
	tr.inflight.Add(-1)
}

// slowShare delays every block read a little (without looking at ctx, as
// a reader blocked in a syscall would), and can corrupt one block.
type slowShare struct {
	r         BytesShare
	tr        *tracker
	delay     time.Duration
	corruptAt uint64 // flip the byte at this offset when read (0: none)
}

func (s slowShare) ReadAt(ctx context.Context, off, n uint64) ([]byte, error) {
	s.tr.enter()
	defer s.tr.exit()
	if n > 1000 { // blocks, not headers and trees
		time.Sleep(s.delay)
	}
	b, err := s.r.ReadAt(ctx, off, n)
	if s.corruptAt != 0 && off <= s.corruptAt && s.corruptAt < off+uint64(len(b)) {
		b = bytes.Clone(b)
		b[s.corruptAt-off] ^= 1
	}
	return b, err
}

// errWriter fails (or cancels) at its nth write.
type errWriter struct {
	n      int
	cancel context.CancelFunc // cancel instead of failing
}

var errWrite = errors.New("disk full")

func (w *errWriter) Write(b []byte) (int, error) {
	w.n--
	if w.n == 0 {
		if w.cancel != nil {
			w.cancel()
			return len(b), nil
		}
		return 0, errWrite
	}
	return len(b), nil
}

// badCrypttextLeaf returns shares and a cap whose crypttext hash tree is
// consistent and matches the cap, but whose leaf for segment seg is wrong:
// every block checks out and segment seg fails its ciphertext hash.
func badCrypttextLeaf(t *testing.T, r *Result, shares map[int][]byte, seg int) (*caps.Cap, map[int][]byte) {
	t.Helper()
	h := r.Header
	tree, err := hashtree.Parse(shares[0][h.CrypttextHashTree:h.BlockHashes], r.Layout.TreeNodes)
	if err != nil {
		t.Fatal(err)
	}
	leaves := make([][]byte, r.Layout.NumSegments)
	for i := range leaves {
		leaves[i] = tree.Leaf(i)
	}
	leaves[seg] = make([]byte, 32)
	bad := hashtree.New(leaves)
	u, err := ParseUEB(r.UEB)
	if err != nil {
		t.Fatal(err)
	}
	u.Fields[uebCrypttextRootHash] = bad.Root()
	ueb := u.Pack()
	out := map[int][]byte{}
	for sh, b := range shares {
		b = bytes.Clone(b)
		copy(b[h.CrypttextHashTree:], bad.Bytes())
		copy(b[h.URIExtension+h.FieldSize():], ueb)
		out[sh] = b
	}
	c, err := caps.NewCHK(r.Key, caps.UEBHash(ueb), r.Layout.Needed, r.Layout.Total, r.Layout.Size)
	if err != nil {
		t.Fatal(err)
	}
	return c, out
}

// TestDecodeJoinsEverything checks, on every way out of Decode, that no
// ShareReader call and no OnBadShare call is running or begins after
// Decode returns, and that the goroutines it started are gone.
func TestDecodeJoinsEverything(t *testing.T) {
	data := sha256ctr("join", 40*4096)
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("j")}
	r, shares := encodeMem(t, data, p)
	blockOff := func(seg int) uint64 { return r.Header.Data + uint64(seg)*uint64(r.Layout.BlockSize) + 7 }
	badCap, badShares := badCrypttextLeaf(t, r, shares, 20)
	cases := []struct {
		name    string
		cap     *caps.Cap
		shares  map[int][]byte
		use     []int
		corrupt map[int]uint64 // share → offset to flip
		w       func(cancel context.CancelFunc) io.Writer
		want    func(error) bool
	}{
		{name: "success", use: []int{0, 1, 2},
			want: func(err error) bool { return err == nil }},
		{name: "writer error", use: []int{0, 1, 2, 3}, corrupt: map[int]uint64{1: blockOff(3)},
			w:    func(context.CancelFunc) io.Writer { return &errWriter{n: 2} },
			want: func(err error) bool { return errors.Is(err, errWrite) }},
		{name: "cancelled", use: []int{0, 1, 2, 3}, corrupt: map[int]uint64{2: blockOff(4)},
			w:    func(cancel context.CancelFunc) io.Writer { return &errWriter{n: 2, cancel: cancel} },
			want: func(err error) bool { return errors.Is(err, context.Canceled) }},
		{name: "segment hash mismatch", cap: badCap, shares: badShares, use: []int{0, 1, 2, 3}, corrupt: map[int]uint64{0: blockOff(21)},
			want: func(err error) bool { return errors.Is(err, ErrCorrupt) && !errors.As(err, new(*NotEnoughSharesError)) }},
		{name: "too few shares midway", use: []int{0, 1, 2}, corrupt: map[int]uint64{1: blockOff(10)},
			want: func(err error) bool { return errors.As(err, new(*NotEnoughSharesError)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			c, src := r.Cap, shares
			if tc.cap != nil {
				c, src = tc.cap, tc.shares
			}
			tr := &tracker{}
			rs := map[int]ShareReader{}
			for _, n := range tc.use {
				rs[n] = slowShare{r: src[n], tr: tr, delay: time.Millisecond, corruptAt: tc.corrupt[n]}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var w io.Writer = io.Discard
			if tc.w != nil {
				w = tc.w(cancel)
			}
			opts := DecodeOptions{OnBadShare: func(int, error) {
				tr.enter()
				time.Sleep(time.Millisecond) // as AdviseCorruptShare would
				tr.exit()
			}}
			err := Decode(ctx, c, rs, w, opts)
			tr.returned.Store(true)
			if !tc.want(err) {
				t.Fatalf("Decode returned %v", err)
			}
			if n := tr.inflight.Load(); n != 0 {
				t.Fatalf("%d reader or OnBadShare calls still running when Decode returned", n)
			}
			time.Sleep(20 * time.Millisecond)
			if n := tr.late.Load(); n != 0 {
				t.Fatalf("%d reader or OnBadShare calls after Decode returned", n)
			}
			// Goroutines that have called Done may take a moment to exit.
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > base {
				t.Fatalf("%d goroutines after Decode, %d before", n, base)
			}
		})
	}
}

// TestEncodeJoinsEverything checks that Encode stops reading its source
// before it returns, also when the sink fails or ctx is cancelled.
func TestEncodeJoinsEverything(t *testing.T) {
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("j")}
	const size = 200 * 4096
	for _, mode := range []string{"success", "sink error", "cancelled"} {
		t.Run(mode, func(t *testing.T) {
			base := runtime.NumGoroutine()
			tr := &tracker{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := slowSource{patternReader{size}, tr}
			writes := 0
			sink := sinkFunc(func(int, uint64, []byte) error {
				writes++
				if writes == 6*8 {
					switch mode {
					case "sink error":
						return errWrite
					case "cancelled":
						cancel()
					}
				}
				return nil
			})
			_, err := EncodeWithKey(ctx, src, size, make([]byte, 16), p, sink)
			tr.returned.Store(true)
			switch mode {
			case "success":
				if err != nil {
					t.Fatal(err)
				}
			case "sink error":
				if !errors.Is(err, errWrite) {
					t.Fatalf("Encode returned %v", err)
				}
			case "cancelled":
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Encode returned %v", err)
				}
			}
			if n := tr.inflight.Load(); n != 0 {
				t.Fatalf("%d source reads still running when Encode returned", n)
			}
			time.Sleep(20 * time.Millisecond)
			if n := tr.late.Load(); n != 0 {
				t.Fatalf("%d source reads after Encode returned", n)
			}
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > base {
				t.Fatalf("%d goroutines after Encode, %d before", n, base)
			}
		})
	}
}

type sinkFunc func(int, uint64, []byte) error

func (f sinkFunc) WriteShare(sh int, off uint64, b []byte) error { return f(sh, off, b) }

// slowSource is a plaintext source whose reads take a moment.
type slowSource struct {
	r  io.ReaderAt
	tr *tracker
}

func (s slowSource) ReadAt(b []byte, off int64) (int, error) {
	s.tr.enter()
	defer s.tr.exit()
	time.Sleep(200 * time.Microsecond)
	return s.r.ReadAt(b, off)
}

// BenchmarkDecodeFiles decodes from share files through ReaderAtShare, so
// blocks are read into the decoder's reused buffers.
func BenchmarkDecodeFiles(b *testing.B) {
	p := Params{Needed: 3, Total: 10, MaxSegmentSize: DefaultMaxSegmentSize, Convergence: []byte("bench")}
	for _, keep := range [][]int{{0, 1, 2}, {7, 8, 9}} {
		r, rs := encodeToFiles(b, b.TempDir(), benchSize, p, keep)
		b.Run(fmt.Sprintf("3-of-10-%v", keep), func(b *testing.B) {
			b.SetBytes(benchSize)
			loopCPU(b, func() {
				if err := Decode(context.Background(), r.Cap, rs, io.Discard, DecodeOptions{}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// countingShare tracks how many block reads run at once.
type countingShare struct {
	r        BytesShare
	now, max *atomic.Int32
}

func (s countingShare) ReadAt(ctx context.Context, off, n uint64) ([]byte, error) {
	if n > 1000 {
		c := s.now.Add(1)
		defer s.now.Add(-1)
		for m := s.max.Load(); c > m && !s.max.CompareAndSwap(m, c); m = s.max.Load() {
		}
		time.Sleep(2 * time.Millisecond)
	}
	return s.r.ReadAt(ctx, off, n)
}

// TestDecodeOverlapsSegmentReads checks that the block reads of several
// segments are in flight at once, so a remote share's latency is paid
// once per window of segments rather than once per segment.
func TestDecodeOverlapsSegmentReads(t *testing.T) {
	data := sha256ctr("overlap", 20*4096)
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("o")}
	r, shares := encodeMem(t, data, p)
	var now, most atomic.Int32
	rs := map[int]ShareReader{}
	for n := range 4 {
		rs[n] = countingShare{shares[n], &now, &most}
	}
	var out bytes.Buffer
	if err := Decode(context.Background(), r.Cap, rs, &out, DecodeOptions{}); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("decode: %v", err)
	}
	if m := most.Load(); m <= int32(p.Needed) {
		t.Fatalf("at most %d block reads at once: segments are fetched one at a time", m)
	}
	t.Logf("up to %d block reads at once", most.Load())
}

// TestShareFailingManySegmentsIsRejectedOnce corrupts every block of two
// shares from some segment on, while reads of later segments are already
// in flight: each share must be rejected once and replaced for the rest of
// the file.
func TestShareFailingManySegmentsIsRejectedOnce(t *testing.T) {
	data := sha256ctr("many", 30*4096)
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("m")}
	r, shares := encodeMem(t, data, p)
	bad := map[int][]byte{}
	for n, s := range shares {
		bad[n] = bytes.Clone(s)
	}
	for seg := 5; seg < r.Layout.NumSegments; seg++ {
		bad[0][r.Header.Data+uint64(seg)*uint64(r.Layout.BlockSize)] ^= 1
		if seg >= 12 {
			bad[3][r.Header.Data+uint64(seg)*uint64(r.Layout.BlockSize)+9] ^= 1
		}
	}
	var now, most atomic.Int32
	rs := map[int]ShareReader{}
	for n := range 5 {
		rs[n] = countingShare{bad[n], &now, &most}
	}
	var out bytes.Buffer
	var rejected []int
	err := Decode(context.Background(), r.Cap, rs, &out, DecodeOptions{OnBadShare: func(n int, _ error) { rejected = append(rejected, n) }})
	if err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("decode: %v", err)
	}
	if fmt.Sprint(rejected) != "[0 3]" {
		t.Fatalf("rejected %v, want [0 3]", rejected)
	}
}

// TestDecodeWritesOnlyCheckedSegments: a segment whose ciphertext fails its
// crypttext hash is never written, nor anything after it; what was written
// is the file's true prefix.
func TestDecodeWritesOnlyCheckedSegments(t *testing.T) {
	data := sha256ctr("checked", 40*4096)
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("c")}
	r, shares := encodeMem(t, data, p)
	const bad = 20
	c, badShares := badCrypttextLeaf(t, r, shares, bad)
	use := map[int]ShareReader{}
	for _, sh := range []int{0, 1, 2} {
		use[sh] = BytesShare(badShares[sh])
	}
	var out bytes.Buffer
	err := Decode(context.Background(), c, use, &out, DecodeOptions{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Decode: %v, want ErrCorrupt", err)
	}
	segSize := int(r.Layout.SegmentSize)
	if out.Len() > bad*segSize || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
		t.Fatalf("wrote %d bytes (segments of %d; segment %d is bad), or not the file's prefix", out.Len(), segSize, bad)
	}
}
