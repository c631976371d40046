// Package chk is the immutable-file codec of Tahoe-LAFS: CHK ("content hash
// key") files and LIT files. It derives the convergent encryption key,
// encrypts with AES-128-CTR, erasure-codes each segment with zfec-compatible
// Reed–Solomon (storj.io/infectious), builds the block, ciphertext and share
// hash trees and the URI extension block, and lays shares out exactly as a
// Tahoe client writes them (layout v1, or v2 for large shares). Decoding
// reads any k shares, checks every hash and falls back to other shares.
//
// It does no I/O of its own beyond the readers and sinks it is given: which
// server holds which share is pkg/client's business.
package chk

import (
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
)

// LITMax is the largest file stored inside its cap (URI:LIT:) instead of on
// the grid.
const LITMax = 55

// DefaultMaxSegmentSize is Tahoe's default maximum segment size (1 MiB).
const DefaultMaxSegmentSize = 1 << 20

// Params are an upload's encoding parameters.
type Params struct {
	Needed         int   // k: shares needed to recover the file
	Total          int   // N: shares produced
	MaxSegmentSize int64 // upper bound on the segment size
	// Convergence is the convergence secret; with NoConvergence the key is
	// random instead.
	Convergence   []byte
	NoConvergence bool
}

// ErrParams wraps every invalid-parameter error.
var ErrParams = errors.New("invalid encoding parameters")

// Validate checks 1 <= k <= N <= 256 and a positive segment size.
func (p Params) Validate() error {
	switch {
	case p.Needed < 1:
		return fmt.Errorf("needed shares k=%d must be at least 1: %w", p.Needed, ErrParams)
	case p.Total > caps.MaxShares:
		return fmt.Errorf("total shares N=%d must be at most %d: %w", p.Total, caps.MaxShares, ErrParams)
	case p.Needed > p.Total:
		return fmt.Errorf("needed shares k=%d is more than total shares N=%d: %w", p.Needed, p.Total, ErrParams)
	case p.MaxSegmentSize < 1:
		return fmt.Errorf("segment size %d must be at least 1: %w", p.MaxSegmentSize, ErrParams)
	}
	return nil
}

// Layout is the shape of one encoded file: Tahoe's segmentation rules and
// the share layout derived from them.
type Layout struct {
	Size           uint64 // plaintext (= ciphertext) size
	Needed, Total  int
	SegmentSize    int64 // effective segment size: a multiple of k
	NumSegments    int
	BlockSize      int64 // SegmentSize / k
	TailSize       int64 // ciphertext bytes in the last segment
	TailPadded     int64 // TailSize rounded up to a multiple of k
	TailBlockSize  int64 // TailPadded / k
	ShareDataSize  int64 // bytes of blocks in each share
	TreeNodes      int   // nodes of each segment-indexed hash tree
	ShareHashNodes int   // entries in each share's hash chain
}

func nextMultiple(n, k int64) int64 {
	if n%k == 0 {
		return n
	}
	return n + k - n%k
}

// NewLayout applies Tahoe's rules: the segment size is min(max segment
// size, file size) rounded up to a multiple of k; the tail segment holds the
// rest, padded with zeros to a multiple of k for the erasure code.
func NewLayout(size uint64, p Params) (Layout, error) {
	if err := p.Validate(); err != nil {
		return Layout{}, err
	}
	if size == 0 {
		return Layout{}, errors.New("a CHK file cannot be empty (empty files are LIT)")
	}
	k := int64(p.Needed)
	seg := p.MaxSegmentSize
	if uint64(seg) > size {
		seg = int64(size)
	}
	seg = nextMultiple(seg, k)
	l := Layout{Size: size, Needed: p.Needed, Total: p.Total, SegmentSize: seg, BlockSize: seg / k}
	l.NumSegments = int((size + uint64(seg) - 1) / uint64(seg))
	l.TailSize = int64(size - uint64(l.NumSegments-1)*uint64(seg))
	l.TailPadded = nextMultiple(l.TailSize, k)
	l.TailBlockSize = l.TailPadded / k
	l.ShareDataSize = int64(l.NumSegments-1)*l.BlockSize + l.TailBlockSize
	l.TreeNodes = hashtree.Size(l.NumSegments)
	l.ShareHashNodes = len(hashtree.Needed(p.Total, 0))
	return l, nil
}

// SegmentBounds returns the ciphertext offset and length of segment i.
func (l Layout) SegmentBounds(i int) (int64, int64) {
	off := int64(i) * l.SegmentSize
	if i == l.NumSegments-1 {
		return off, l.TailSize
	}
	return off, l.SegmentSize
}

// BlockLen is the length of segment i's block in every share.
func (l Layout) BlockLen(i int) int64 {
	if i == l.NumSegments-1 {
		return l.TailBlockSize
	}
	return l.BlockSize
}

// CodecParams is the UEB's "codec_params": "segsize-k-N".
func (l Layout) CodecParams() string {
	return fmt.Sprintf("%d-%d-%d", l.SegmentSize, l.Needed, l.Total)
}

// TailCodecParams is the UEB's "tail_codec_params": "paddedtail-k-N".
func (l Layout) TailCodecParams() string {
	return fmt.Sprintf("%d-%d-%d", l.TailPadded, l.Needed, l.Total)
}
