package chk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

// shareBuffers is a Sink keeping every share in memory.
type shareBuffers map[int][]byte

func (s shareBuffers) WriteShare(sh int, off uint64, data []byte) error {
	b := s[sh]
	if end := off + uint64(len(data)); uint64(len(b)) < end {
		b = append(b, make([]byte, end-uint64(len(b)))...)
	}
	copy(b[off:], data)
	s[sh] = b
	return nil
}

func pseudoRandom(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	h := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return out[:n]
}

func encodeShares(t *testing.T, size, k, n int, seg int64) (*caps.Cap, shareBuffers) {
	t.Helper()
	data := pseudoRandom(fmt.Sprint("verify", size, k, n), size)
	sink := shareBuffers{}
	r, err := Encode(context.Background(), bytes.NewReader(data), uint64(size), Params{Needed: k, Total: n, MaxSegmentSize: seg, Convergence: []byte("v")}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return r.Cap, sink
}

func TestVerifyShareGood(t *testing.T) {
	c, shares := encodeShares(t, 100000, 3, 10, 4096)
	for _, cp := range []*caps.Cap{c, c.Verifier()} {
		for sh := 0; sh < 10; sh++ {
			info, err := VerifyShare(context.Background(), cp, sh, BytesShare(shares[sh]))
			if err != nil {
				t.Fatalf("%s share %d: %v", cp.Kind, sh, err)
			}
			if info.Num != sh || info.Layout.NumSegments != 25 {
				t.Errorf("share %d: info %+v", sh, info.Layout)
			}
		}
	}
}

// TestVerifyShareFindsEveryFlippedRegion flips one byte in each region of a
// share, block data included (which a download touching other segments
// would never see), and expects exactly a corruption error.
func TestVerifyShareFindsEveryFlippedRegion(t *testing.T) {
	c, shares := encodeShares(t, 50000, 3, 10, 4096)
	v := c.Verifier()
	good := shares[4]
	hdr, err := ParseHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		off  uint64
	}{
		{"header", 8},
		{"first block", hdr.Data},
		{"middle block", hdr.Data + hdr.DataSize/2},
		{"last byte of data", hdr.Data + hdr.DataSize - 1},
		{"crypttext hash tree", hdr.CrypttextHashTree + 5},
		{"block hash tree leaf", hdr.ShareHashes - 1},
		{"share hash chain", hdr.ShareHashes + 3},
		{"UEB", hdr.URIExtension + 10},
		{"UEB length", hdr.URIExtension + 3},
	} {
		bad := bytes.Clone(good)
		bad[tc.off] ^= 0x40
		_, err := VerifyShare(context.Background(), v, 4, BytesShare(bad))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s flipped at %d: %v, want ErrCorrupt", tc.name, tc.off, err)
		}
	}
	if _, err := VerifyShare(context.Background(), v, 4, BytesShare(good[:len(good)-1])); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated share: %v", err)
	}
	if _, err := VerifyShare(context.Background(), v, 5, BytesShare(good)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("share 4 presented as share 5: %v", err)
	}
	newer := bytes.Clone(good)
	binary.BigEndian.PutUint32(newer, 3)
	if _, err := VerifyShare(context.Background(), v, 4, BytesShare(newer)); !errors.Is(err, ErrIncompatible) || errors.Is(err, ErrCorrupt) {
		t.Errorf("layout version 3: %v, want ErrIncompatible only", err)
	}
	if _, err := VerifyShare(context.Background(), v, 4, BytesShare(nil)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty share: %v", err)
	}
}

type failingShare struct{}

func (failingShare) ReadAt(context.Context, uint64, uint64) ([]byte, error) {
	return nil, errors.New("server went away")
}

func TestRebuildByteForByte(t *testing.T) {
	for _, tc := range []struct {
		size, k, n int
		seg        int64
		missing    []int
	}{
		{size: 100000, k: 3, n: 10, seg: 4096, missing: []int{0, 4, 7, 9}},
		{size: 100000, k: 3, n: 10, seg: 4096, missing: []int{0, 1, 2, 3, 4, 5, 6}},
		{size: 5000, k: 2, n: 3, seg: 131072, missing: []int{2}},
		{size: 3 << 20, k: 3, n: 10, seg: 128 << 10, missing: []int{1, 8}},
		{size: 777, k: 1, n: 4, seg: 100, missing: []int{0, 3}},
	} {
		t.Run(fmt.Sprintf("%d-%dof%d-%v", tc.size, tc.k, tc.n, tc.missing), func(t *testing.T) {
			c, shares := encodeShares(t, tc.size, tc.k, tc.n, tc.seg)
			good := map[int]ShareReader{}
			gone := map[int]bool{}
			for _, sh := range tc.missing {
				gone[sh] = true
			}
			for sh := range shares {
				if !gone[sh] {
					good[sh] = BytesShare(shares[sh])
				}
			}
			out := shareBuffers{}
			if err := Rebuild(context.Background(), c.Verifier(), good, tc.missing, out, RebuildOptions{}); err != nil {
				t.Fatal(err)
			}
			if len(out) != len(tc.missing) {
				t.Fatalf("rebuilt %d shares, want %d", len(out), len(tc.missing))
			}
			for _, sh := range tc.missing {
				if !bytes.Equal(out[sh], shares[sh]) {
					t.Errorf("share %d differs from the original (%d vs %d bytes)", sh, len(out[sh]), len(shares[sh]))
				}
			}
		})
	}
}

func TestRebuildSkipsBadShares(t *testing.T) {
	c, shares := encodeShares(t, 60000, 3, 10, 4096)
	hdr, _ := ParseHeader(shares[0])
	corrupt := bytes.Clone(shares[1])
	corrupt[hdr.Data+hdr.DataSize-2] ^= 1 // last block: found only late
	good := map[int]ShareReader{0: BytesShare(shares[0]), 1: BytesShare(corrupt), 2: failingShare{}, 5: BytesShare(shares[5]), 6: BytesShare(shares[6])}
	var rejected []int
	out := shareBuffers{}
	err := Rebuild(context.Background(), c, good, []int{1, 3}, out, RebuildOptions{OnBadShare: func(sh int, _ error) { rejected = append(rejected, sh) }})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rejected) != "[2 1]" {
		t.Errorf("rejected %v, want [2 1]", rejected)
	}
	for _, sh := range []int{1, 3} {
		if !bytes.Equal(out[sh], shares[sh]) {
			t.Errorf("share %d differs from the original", sh)
		}
	}
	few := map[int]ShareReader{0: BytesShare(shares[0]), 1: BytesShare(corrupt), 4: BytesShare(shares[4])}
	var nes *NotEnoughSharesError
	if err := Rebuild(context.Background(), c, few, []int{9}, shareBuffers{}, RebuildOptions{}); !errors.As(err, &nes) {
		t.Errorf("with two good shares: %v, want NotEnoughSharesError", err)
	}
	if err := Rebuild(context.Background(), c, good, []int{10}, shareBuffers{}, RebuildOptions{}); err == nil {
		t.Error("rebuilding share 10 of 10 succeeded")
	}
}

func BenchmarkVerifyShare(b *testing.B) {
	data := pseudoRandom("bench", 8<<20)
	sink := shareBuffers{}
	r, err := Encode(context.Background(), bytes.NewReader(data), uint64(len(data)), Params{Needed: 3, Total: 10, MaxSegmentSize: 128 << 10, Convergence: []byte("b")}, sink)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sink[0])))
	for b.Loop() {
		if _, err := VerifyShare(context.Background(), r.Cap, 0, BytesShare(sink[0])); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRebuild(b *testing.B) {
	data := pseudoRandom("bench rebuild", 8<<20)
	sink := shareBuffers{}
	r, err := Encode(context.Background(), bytes.NewReader(data), uint64(len(data)), Params{Needed: 3, Total: 10, MaxSegmentSize: 128 << 10, Convergence: []byte("b")}, sink)
	if err != nil {
		b.Fatal(err)
	}
	good := map[int]ShareReader{}
	for sh := 4; sh < 10; sh++ {
		good[sh] = BytesShare(sink[sh])
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Rebuild(context.Background(), r.Cap.Verifier(), good, []int{0, 1, 2, 3}, Discard, RebuildOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
