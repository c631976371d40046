package chk

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

func encodeMem(t testing.TB, data []byte, p Params) (*Result, map[int][]byte) {
	t.Helper()
	sink := newMemSink()
	r, err := Encode(context.Background(), bytes.NewReader(data), uint64(len(data)), p, sink)
	if err != nil {
		t.Fatal(err)
	}
	return r, sink.shares
}

func readers(shares map[int][]byte, use []int) map[int]ShareReader {
	m := map[int]ShareReader{}
	for _, n := range use {
		m[n] = BytesShare(shares[n])
	}
	return m
}

func decodeWith(t testing.TB, c *caps.Cap, rs map[int]ShareReader) ([]byte, error, []int) {
	t.Helper()
	var out bytes.Buffer
	var bad []int
	err := Decode(context.Background(), c, rs, &out, DecodeOptions{OnBadShare: func(n int, _ error) { bad = append(bad, n) }})
	return out.Bytes(), err, bad
}

// subsets calls f with every k-subset of 0..n-1.
func subsets(n, k int, f func([]int)) {
	cur := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(cur) == k {
			f(append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			cur = append(cur, i)
			rec(i + 1)
			cur = cur[:len(cur)-1]
		}
	}
	rec(0)
}

func TestRoundTripEveryKSubset(t *testing.T) {
	for _, kn := range [][2]int{{1, 1}, {1, 3}, {2, 3}, {3, 5}, {3, 7}} {
		data := sha256ctr("round trip", 5000)
		p := Params{Needed: kn[0], Total: kn[1], MaxSegmentSize: 1024, Convergence: []byte("s")}
		r, shares := encodeMem(t, data, p)
		subsets(kn[1], kn[0], func(use []int) {
			got, err, bad := decodeWith(t, r.Cap, readers(shares, use))
			if err != nil || !bytes.Equal(got, data) || len(bad) != 0 {
				t.Fatalf("%d-of-%d with shares %v: err %v bad %v equal %v", kn[0], kn[1], use, err, bad, bytes.Equal(got, data))
			}
		})
	}
}

func TestRoundTripLargeNRandomSubsets(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	data := sha256ctr("large N", 70000)
	p := Params{Needed: 25, Total: 100, MaxSegmentSize: 16 << 10, Convergence: []byte("x")}
	r, shares := encodeMem(t, data, p)
	for iter := 0; iter < 8; iter++ {
		use := rng.Perm(100)[:25+rng.Intn(5)]
		got, err, _ := decodeWith(t, r.Cap, readers(shares, use))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("shares %v: %v", use, err)
		}
	}
}

func TestSizesAroundBoundaries(t *testing.T) {
	const seg = 4096
	for _, size := range []int{0, 1, 55, 56, 57, seg - 1, seg, seg + 1, 3*seg - 1, 3 * seg, 3*seg + 1} {
		data := sha256ctr("sizes", size)
		p := Params{Needed: 3, Total: 10, MaxSegmentSize: seg, Convergence: []byte("c")}
		c, err := ComputeCap(context.Background(), bytes.NewReader(data), uint64(len(data)), p)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if size <= LITMax {
			if c.Kind != caps.KindLIT || !bytes.Equal(c.Data, data) {
				t.Fatalf("size %d: want a LIT cap, got %s", size, c)
			}
			got, err, _ := decodeWith(t, c, nil)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("LIT decode: %v", err)
			}
			continue
		}
		r, shares := encodeMem(t, data, p)
		if r.Cap.String() != c.String() {
			t.Fatalf("size %d: ComputeCap and Encode disagree", size)
		}
		got, err, _ := decodeWith(t, r.Cap, readers(shares, []int{9, 4, 7}))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: %v", size, err)
		}
	}
	if c, _ := ComputeCap(context.Background(), bytes.NewReader(nil), 0, Params{Needed: 3, Total: 10, MaxSegmentSize: 1, Convergence: []byte("any")}); c.String() != "URI:LIT:" {
		t.Fatalf("empty file cap %s", c)
	}
}

// regions returns [start, end) of each region of a share.
func regions(h Header, total uint64) map[string][2]uint64 {
	return map[string][2]uint64{
		"header":          {0, uint64(h.HeaderLen())},
		"block":           {h.Data, h.PlaintextHashTree},
		"crypttext tree":  {h.CrypttextHashTree, h.BlockHashes},
		"block hash tree": {h.BlockHashes, h.ShareHashes},
		"share chain":     {h.ShareHashes, h.URIExtension},
		"UEB":             {h.URIExtension, total},
	}
}

func TestCorruptionInEachRegionIsDetected(t *testing.T) {
	data := sha256ctr("corrupt", 20000)
	p := Params{Needed: 3, Total: 6, MaxSegmentSize: 4096, Convergence: []byte("c")}
	r, shares := encodeMem(t, data, p)
	for name, reg := range regions(r.Header, r.AllocatedSize) {
		for _, at := range []uint64{reg[0], (reg[0] + reg[1]) / 2, reg[1] - 1} {
			t.Run(name, func(t *testing.T) {
				bad := map[int][]byte{}
				for n, s := range shares {
					bad[n] = bytes.Clone(s)
				}
				bad[0][at] ^= 0x40
				got, err, rejected := decodeWith(t, r.Cap, readers(bad, []int{0, 1, 2, 3}))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("flip at %d: %v", at, err)
				}
				if len(rejected) != 1 || rejected[0] != 0 {
					t.Fatalf("flip at %d: rejected %v, want share 0", at, rejected)
				}
			})
		}
	}
}

func TestTooFewGoodShares(t *testing.T) {
	data := sha256ctr("too few", 9000)
	p := Params{Needed: 3, Total: 5, MaxSegmentSize: 4096, Convergence: []byte("c")}
	r, shares := encodeMem(t, data, p)
	bad := map[int][]byte{}
	for n, s := range shares {
		bad[n] = bytes.Clone(s)
	}
	bad[1][r.Header.ShareHashes+3] ^= 1
	bad[3][r.Header.BlockHashes] ^= 1
	_, err, _ := decodeWith(t, r.Cap, readers(bad, []int{0, 1, 3}))
	var ne *NotEnoughSharesError
	if !errors.As(err, &ne) || ne.Found != 1 || ne.Needed != 3 {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(err.Error(), "found 1, need 3") {
		t.Fatalf("message %q", err)
	}
	// A wrong cap (other UEB hash) finds no good share.
	other, _ := caps.NewCHK(r.Key, make([]byte, 32), 3, 5, uint64(len(data)))
	if _, err, _ := decodeWith(t, other, readers(shares, []int{0, 1, 2, 3, 4})); !errors.As(err, &ne) || ne.Found != 0 {
		t.Fatalf("wrong cap: %v", err)
	}
}

func TestParamsErrors(t *testing.T) {
	for _, p := range []Params{{Needed: 4, Total: 3, MaxSegmentSize: 1}, {Needed: 0, Total: 3, MaxSegmentSize: 1}, {Needed: 3, Total: 257, MaxSegmentSize: 1}, {Needed: 1, Total: 1, MaxSegmentSize: 0}} {
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("%+v accepted", p)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, c := range loadDebug(f) {
		if c.Expected.ShareLayout.HeaderB64 != "" {
			f.Add(b64(f, c.Expected.ShareLayout.HeaderB64))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h2, err := ParseHeader(h.Bytes()); err != nil || h2 != h {
			t.Fatalf("header does not round-trip: %+v %v", h, err)
		}
	})
}

func FuzzParseUEB(f *testing.F) {
	for _, c := range loadDebug(f) {
		if c.Expected.UEBB64 != "" {
			f.Add(b64(f, c.Expected.UEBB64))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUEB(b)
		if err != nil {
			return
		}
		if !bytes.Equal(u.Pack(), b) {
			// Keys out of order are accepted but packed sorted; a second
			// round must be stable.
			u2, err := ParseUEB(u.Pack())
			if err != nil || !bytes.Equal(u2.Pack(), u.Pack()) {
				t.Fatal("UEB does not round-trip")
			}
		}
		_, _ = u.Layout(3, 10, 1000)
	})
}

// FuzzDecodeShare feeds a corrupted share among good ones: decoding must
// either give the right bytes or fail cleanly, never panic or return wrong
// data. Share 2 is parity, so rejecting share 0 takes the rebuild path;
// into chooses between readers returning slices and readers reading into
// the decoder's buffers.
func FuzzDecodeShare(f *testing.F) {
	data := sha256ctr("fuzz", 3000)
	p := Params{Needed: 2, Total: 3, MaxSegmentSize: 1024, Convergence: []byte("c")}
	sink := newMemSink()
	r, err := Encode(context.Background(), bytes.NewReader(data), uint64(len(data)), p, sink)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sink.shares[0], false)
	f.Add(sink.shares[0], true)
	f.Fuzz(func(t *testing.T, share0 []byte, into bool) {
		rs := map[int]ShareReader{}
		for n, b := range map[int][]byte{0: share0, 1: sink.shares[1], 2: sink.shares[2]} {
			if into {
				rs[n] = ReaderAtShare{bytes.NewReader(b)}
			} else {
				rs[n] = BytesShare(b)
			}
		}
		var out bytes.Buffer
		if err := Decode(context.Background(), r.Cap, rs, &out, DecodeOptions{}); err != nil {
			t.Fatalf("two good shares of three, and still: %v", err)
		} else if !bytes.Equal(out.Bytes(), data) {
			t.Fatal("decoded wrong data without an error")
		}
	})
}

// TestBlockHashes: the paired block hashes equal caps.TaggedHash of each
// block, for odd and even block counts and lengths around a SHA-256 block.
func TestBlockHashes(t *testing.T) {
	for _, count := range []int{1, 2, 3, 7, 10} {
		for _, n := range []int{0, 1, 41, 42, 64, 105, 106, 4097} {
			blocks := make([][]byte, count)
			for i := range blocks {
				blocks[i] = make([]byte, n)
				patternReader{1 << 20}.ReadAt(blocks[i], int64(i*n+i))
			}
			got := blockHashes(blocks)
			for i, b := range blocks {
				if want := caps.TaggedHash(caps.TagBlock, b, 0); !bytes.Equal(got[i], want) {
					t.Fatalf("%d blocks of %d bytes: hash %d is %x, want %x", count, n, i, got[i], want)
				}
			}
		}
	}
}
