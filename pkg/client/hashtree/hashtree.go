// Package hashtree builds and checks Tahoe-LAFS's Merkle hash trees: complete
// binary trees stored as a flat list, node 0 the root and node i the parent
// of 2i+1 and 2i+2, with the leaves padded to a power of two by "empty leaf"
// hashes. Interior nodes are SHA-256d tagged pair hashes. Immutable files use
// them for blocks, ciphertext segments and shares; mutable files reuse them.
//
// It does not know what the leaves are; callers hash their data into leaves.
package hashtree

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"

	"github.com/lafs/lafs/pkg/caps"
)

// HashSize is the size of every node.
const HashSize = 32

const (
	tagEmptyLeaf = "Merkle tree empty leaf"
	tagInternal  = "Merkle tree internal node"
)

// EmptyLeaf is the padding hash at leaf position i.
func EmptyLeaf(i int) []byte {
	return caps.TaggedHash(tagEmptyLeaf, []byte(strconv.Itoa(i)), 0)
}

// PairHash is the hash of an interior node over its two children.
func PairHash(left, right []byte) []byte {
	return caps.TaggedPairHash(tagInternal, left, right, 0)
}

// LeafCount returns the number of leaf slots of a tree over n leaves: the
// next power of two (at least 1).
func LeafCount(n int) int {
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}

// Size returns the number of nodes of a tree over n leaves.
func Size(n int) int { return 2*LeafCount(n) - 1 }

// Tree is a complete hash tree as a flat list of nodes.
type Tree [][]byte

// New builds the tree over the given leaf hashes.
func New(leaves [][]byte) Tree {
	lc := LeafCount(len(leaves))
	t := make(Tree, 2*lc-1)
	first := lc - 1
	for i := 0; i < lc; i++ {
		if i < len(leaves) {
			t[first+i] = leaves[i]
		} else {
			t[first+i] = EmptyLeaf(i)
		}
	}
	for i := first - 1; i >= 0; i-- {
		t[i] = PairHash(t[2*i+1], t[2*i+2])
	}
	return t
}

// Root is node 0.
func (t Tree) Root() []byte { return t[0] }

// FirstLeaf is the node index of leaf 0.
func (t Tree) FirstLeaf() int { return len(t) / 2 }

// Leaf returns leaf i.
func (t Tree) Leaf(i int) []byte { return t[t.FirstLeaf()+i] }

// Bytes concatenates the nodes, root first, as shares store them.
func (t Tree) Bytes() []byte {
	out := make([]byte, 0, len(t)*HashSize)
	for _, h := range t {
		out = append(out, h...)
	}
	return out
}

// Parse splits stored bytes into a tree of n nodes.
func Parse(b []byte, nodes int) (Tree, error) {
	if nodes < 1 || len(b) != nodes*HashSize {
		return nil, fmt.Errorf("hash tree of %d nodes needs %d bytes, got %d", nodes, nodes*HashSize, len(b))
	}
	if (nodes+1)&nodes != 0 {
		return nil, fmt.Errorf("%d nodes is not a complete binary tree", nodes)
	}
	t := make(Tree, nodes)
	for i := range t {
		t[i] = b[i*HashSize : (i+1)*HashSize]
	}
	return t, nil
}

// ErrBadHash reports a hash that does not match its tree.
var ErrBadHash = errors.New("hash mismatch")

// Verify checks that every interior node is the hash of its children and
// that the root equals root. It is the check for a whole tree read from an
// untrusted share.
func (t Tree) Verify(root []byte) error {
	if len(t) == 0 {
		return fmt.Errorf("empty hash tree: %w", ErrBadHash)
	}
	if subtle.ConstantTimeCompare(t[0], root) != 1 {
		return fmt.Errorf("hash tree root: %w", ErrBadHash)
	}
	for i := 0; 2*i+2 < len(t); i++ {
		if subtle.ConstantTimeCompare(t[i], PairHash(t[2*i+1], t[2*i+2])) != 1 {
			return fmt.Errorf("hash tree node %d: %w", i, ErrBadHash)
		}
	}
	return nil
}

// Needed returns the node indexes a reader needs to check leaf i against
// the root: the sibling of each node on the path from the leaf up (leaf's
// sibling first), then the leaf itself — the insertion order Tahoe uses
// for a share hash chain.
func Needed(leafCount, i int) []int {
	lc := LeafCount(leafCount)
	node := lc - 1 + i
	var out []int
	for node > 0 {
		sib := node + 1
		if node%2 == 0 {
			sib = node - 1
		}
		out = append(out, sib)
		node = (node - 1) / 2
	}
	return append(out, lc-1+i)
}

// VerifyChain checks a leaf against root given the nodes of Needed (any
// order, as a map node index → hash). It recomputes the path bottom up.
func VerifyChain(root []byte, leafCount, i int, leaf []byte, chain map[int][]byte) error {
	lc := LeafCount(leafCount)
	node := lc - 1 + i
	if got, ok := chain[node]; ok && subtle.ConstantTimeCompare(got, leaf) != 1 {
		return fmt.Errorf("leaf %d differs from its chain entry: %w", i, ErrBadHash)
	}
	h := leaf
	for node > 0 {
		var left, right []byte
		if node%2 == 1 {
			sib, ok := chain[node+1]
			if !ok {
				return fmt.Errorf("hash chain lacks node %d", node+1)
			}
			left, right = h, sib
		} else {
			sib, ok := chain[node-1]
			if !ok {
				return fmt.Errorf("hash chain lacks node %d", node-1)
			}
			left, right = sib, h
		}
		h = PairHash(left, right)
		node = (node - 1) / 2
	}
	if subtle.ConstantTimeCompare(h, root) != 1 {
		return fmt.Errorf("leaf %d does not hash to the root: %w", i, ErrBadHash)
	}
	return nil
}
