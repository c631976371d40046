package hashtree

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

func leaves(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = caps.TaggedHash("test leaf", []byte(strconv.Itoa(i)), 0)
	}
	return out
}

func TestTreeShapeAndChains(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 10, 17, 256} {
		tr := New(leaves(n))
		if len(tr) != Size(n) || len(tr) != 2*LeafCount(n)-1 {
			t.Fatalf("n=%d: %d nodes", n, len(tr))
		}
		if err := tr.Verify(tr.Root()); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for i := 0; i < n; i++ {
			chain := map[int][]byte{}
			for _, node := range Needed(n, i) {
				chain[node] = tr[node]
			}
			if err := VerifyChain(tr.Root(), n, i, tr.Leaf(i), chain); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
			bad := bytes.Clone(tr.Leaf(i))
			bad[0] ^= 1
			if err := VerifyChain(tr.Root(), n, i, bad, chain); !errors.Is(err, ErrBadHash) {
				t.Fatalf("n=%d leaf %d: corrupt leaf accepted (%v)", n, i, err)
			}
		}
		// Padding leaves are Tahoe's empty-leaf hashes.
		if lc := LeafCount(n); lc > n && !bytes.Equal(tr.Leaf(n), EmptyLeaf(n)) {
			t.Fatalf("n=%d: padding leaf is not EmptyLeaf(%d)", n, n)
		}
	}
}

func TestVerifyDetectsEveryNode(t *testing.T) {
	tr := New(leaves(5))
	raw := tr.Bytes()
	for i := 0; i < len(raw); i += HashSize {
		b := bytes.Clone(raw)
		b[i] ^= 0x80
		t2, err := Parse(b, len(tr))
		if err != nil {
			t.Fatal(err)
		}
		if err := t2.Verify(tr.Root()); err == nil {
			t.Fatalf("flipped node %d not detected", i/HashSize)
		}
	}
	if _, err := Parse(raw[:len(raw)-1], len(tr)); err == nil {
		t.Fatal("short tree accepted")
	}
	if _, err := Parse(make([]byte, 6*HashSize), 6); err == nil {
		t.Fatal("6-node tree accepted")
	}
}

// FuzzParseVerify reads arbitrary bytes as a stored tree: Parse must
// reject what is not a complete tree, and Verify must accept exactly the
// trees whose interior nodes are the hashes of their children. Every
// leaf's chain taken from an accepted tree must check out.
func FuzzParseVerify(f *testing.F) {
	for _, n := range []int{1, 2, 3, 5} {
		f.Add(New(leaves(n)).Bytes(), Size(n))
	}
	f.Add([]byte("short"), 3)
	f.Fuzz(func(t *testing.T, b []byte, nodes int) {
		tr, err := Parse(b, nodes)
		if err != nil {
			return
		}
		lc := (len(tr) + 1) / 2
		rebuilt := New(tr[tr.FirstLeaf():])
		consistent := bytes.Equal(rebuilt.Bytes(), tr.Bytes())
		if err := tr.Verify(tr.Root()); (err == nil) != consistent {
			t.Fatalf("Verify says %v for a tree that is consistent=%v", err, consistent)
		}
		if !consistent {
			return
		}
		for i := 0; i < lc; i++ {
			chain := map[int][]byte{}
			for _, node := range Needed(lc, i) {
				chain[node] = tr[node]
			}
			if err := VerifyChain(tr.Root(), lc, i, tr.Leaf(i), chain); err != nil {
				t.Fatalf("leaf %d of a consistent tree: %v", i, err)
			}
		}
	})
}
