package chk

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
)

// ErrIncompatible marks a share whose layout version this reader does not
// know (Tahoe's checker counts such shares as "incompatible", not corrupt).
var ErrIncompatible = errors.New("incompatible share layout")

// verifyChunk bounds one read of block data while verifying or rebuilding
// a share: whole blocks, about this many bytes at a time.
const verifyChunk = 1 << 20

// ShareInfo is what checking a share's metadata established: its layout,
// its URI extension block (matching the cap), and its hash trees, each
// checked up to the root the cap commits to.
type ShareInfo struct {
	Num    int
	Header Header
	// HeaderBytes is the share's offsets table exactly as stored.
	HeaderBytes []byte
	Layout      Layout
	// UEB is the packed URI extension block (its hash is the cap's).
	UEB []byte
	// Unused is the stored plaintext-hash-tree region, kept so a rebuilt
	// share can repeat it byte for byte.
	Unused        []byte
	CrypttextTree hashtree.Tree
	BlockTree     hashtree.Tree
}

// fileCap returns the CHK (or CHK verifier) cap behind c: a CHK file cap
// or verify cap itself, or the file of an immutable directory.
func fileCap(c *caps.Cap) (*caps.Cap, error) {
	switch c.Kind {
	case caps.KindCHK, caps.KindCHKVerifier:
		return c, nil
	case caps.KindDIR2CHK, caps.KindDIR2CHKVerifier:
		return caps.FileOf(c)
	}
	return nil, fmt.Errorf("a %s cap has no immutable shares to check", c.Kind)
}

// OpenShare reads and checks share shnum's metadata against the cap c (a
// CHK read or verify cap, or an immutable directory's): the offsets table,
// the URI extension block (its hash must be the cap's), the crypttext hash
// tree (up to the block's root), the block hash tree and the share hash
// chain (up to the share root hash). It reads no block data. Errors about
// the share's contents wrap ErrCorrupt or ErrIncompatible; other errors
// are the reader's.
func OpenShare(ctx context.Context, c *caps.Cap, shnum int, r ShareReader) (*ShareInfo, error) {
	fc, err := fileCap(c)
	if err != nil {
		return nil, err
	}
	if shnum < 0 || shnum >= fc.Total {
		return nil, fmt.Errorf("share number %d of a %d-share file: %w", shnum, fc.Total, ErrCorrupt)
	}
	hb, err := r.ReadAt(ctx, 0, MaxHeaderLen)
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if len(hb) >= 4 {
		if v := binary.BigEndian.Uint32(hb); v != 1 && v != 2 {
			return nil, fmt.Errorf("share layout version %d: %w", v, ErrIncompatible)
		}
	}
	hdr, err := ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	info := &ShareInfo{Num: shnum, Header: hdr, HeaderBytes: append([]byte(nil), hb[:hdr.HeaderLen()]...)}
	if err := info.readUEB(ctx, fc, r); err != nil {
		return nil, err
	}
	if err := hdr.checkAgainst(info.Layout); err != nil {
		return nil, err
	}
	u, err := ParseUEB(info.UEB)
	if err != nil {
		return nil, errors.Join(err, ErrCorrupt)
	}
	shareRoot, err := u.Hash(uebShareRootHash)
	if err != nil {
		return nil, errors.Join(err, ErrCorrupt)
	}
	cryptRoot, err := u.Hash(uebCrypttextRootHash)
	if err != nil {
		return nil, errors.Join(err, ErrCorrupt)
	}
	want := hdr.URIExtension - hdr.PlaintextHashTree
	b, err := r.ReadAt(ctx, hdr.PlaintextHashTree, want)
	if err != nil {
		return nil, fmt.Errorf("reading hash trees: %w", err)
	}
	if uint64(len(b)) != want {
		return nil, fmt.Errorf("hash trees are short: %w", ErrCorrupt)
	}
	at := func(off uint64) uint64 { return off - hdr.PlaintextHashTree }
	info.Unused = b[:at(hdr.CrypttextHashTree)]
	nodes := info.Layout.TreeNodes
	ct, err := hashtree.Parse(b[at(hdr.CrypttextHashTree):at(hdr.BlockHashes)], nodes)
	if err != nil {
		return nil, fmt.Errorf("crypttext hash tree: %v: %w", err, ErrCorrupt)
	}
	if err := ct.Verify(cryptRoot); err != nil {
		return nil, fmt.Errorf("crypttext hash tree: %v: %w", err, ErrCorrupt)
	}
	bt, err := hashtree.Parse(b[at(hdr.BlockHashes):at(hdr.ShareHashes)], nodes)
	if err != nil {
		return nil, fmt.Errorf("block hash tree: %v: %w", err, ErrCorrupt)
	}
	if err := bt.Verify(bt.Root()); err != nil {
		return nil, fmt.Errorf("block hash tree: %v: %w", err, ErrCorrupt)
	}
	chain, err := parseChain(b[at(hdr.ShareHashes):])
	if err != nil {
		return nil, err
	}
	if err := hashtree.VerifyChain(shareRoot, fc.Total, shnum, bt.Root(), chain); err != nil {
		return nil, fmt.Errorf("share hash chain: %v: %w", err, ErrCorrupt)
	}
	info.CrypttextTree, info.BlockTree = ct, bt
	return info, nil
}

// readUEB reads the URI extension block, checks its hash against the cap
// and derives the file's layout from it.
func (info *ShareInfo) readUEB(ctx context.Context, fc *caps.Cap, r ShareReader) error {
	hdr := info.Header
	fs := hdr.FieldSize()
	lb, err := r.ReadAt(ctx, hdr.URIExtension, fs)
	if err != nil {
		return fmt.Errorf("reading URI extension block: %w", err)
	}
	n, err := uebLength(lb, fs)
	if err != nil {
		return err
	}
	raw, err := r.ReadAt(ctx, hdr.URIExtension+fs, n)
	if err != nil {
		return fmt.Errorf("reading URI extension block: %w", err)
	}
	if uint64(len(raw)) != n {
		return fmt.Errorf("URI extension block is short: %w", ErrCorrupt)
	}
	if subtle.ConstantTimeCompare(caps.UEBHash(raw), fc.UEBHash) != 1 {
		return fmt.Errorf("URI extension block does not match the cap: %w", ErrCorrupt)
	}
	u, err := ParseUEB(raw)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	l, err := u.Layout(fc.Needed, fc.Total, fc.Size)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	info.UEB, info.Layout = append([]byte(nil), raw...), l
	return nil
}

// blockRuns splits a file's segments into runs of whole blocks of about
// verifyChunk bytes: [first, end) segment indexes.
func blockRuns(l Layout) [][2]int {
	per := int(max(1, verifyChunk/max(1, l.BlockSize)))
	var out [][2]int
	for i := 0; i < l.NumSegments; i += per {
		out = append(out, [2]int{i, min(i+per, l.NumSegments)})
	}
	return out
}

// readBlockRun reads the blocks of segments [first, end) of a share in one
// request and checks each against the share's block hash tree.
func (info *ShareInfo) readBlockRun(ctx context.Context, r ShareReader, first, end int) ([][]byte, error) {
	l := info.Layout
	off := info.Header.Data + uint64(first)*uint64(l.BlockSize)
	var n uint64
	for i := first; i < end; i++ {
		n += uint64(l.BlockLen(i))
	}
	b, err := r.ReadAt(ctx, off, n)
	if err != nil {
		return nil, fmt.Errorf("reading blocks %d-%d: %w", first, end-1, err)
	}
	if uint64(len(b)) != n {
		return nil, fmt.Errorf("blocks %d-%d are short (%d of %d bytes): %w", first, end-1, len(b), n, ErrCorrupt)
	}
	out := make([][]byte, 0, end-first)
	for i := first; i < end; i++ {
		bl := l.BlockLen(i)
		out = append(out, b[:bl])
		b = b[bl:]
	}
	// Hashed two at a time (all but a short last block have one length).
	for j, h := range blockHashes(out) {
		if subtle.ConstantTimeCompare(h, info.BlockTree.Leaf(first+j)) != 1 {
			return nil, fmt.Errorf("block %d does not match the block hash tree: %w", first+j, ErrCorrupt)
		}
	}
	return out, nil
}

// VerifyShare reads share shnum in full and checks everything in it
// against the cap c (a CHK read or verify cap, or an immutable
// directory's): the metadata as OpenShare does, then every block against
// the block hash tree. Memory stays at about one megabyte of blocks
// whatever the share's size. A nil error means the share is good; errors
// about its contents wrap ErrCorrupt or ErrIncompatible.
func VerifyShare(ctx context.Context, c *caps.Cap, shnum int, r ShareReader) (*ShareInfo, error) {
	r = &headCache{r: r}
	info, err := OpenShare(ctx, c, shnum, r)
	if err != nil {
		return nil, err
	}
	for _, run := range blockRuns(info.Layout) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := info.readBlockRun(ctx, r, run[0], run[1]); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// headSize is how much of a share the first read of a verification
// fetches: all of a small share, so it costs one request.
const headSize = 64 << 10

// headCache reads the first headSize bytes of a share once and answers
// later reads inside them from memory.
type headCache struct {
	r      ShareReader
	head   []byte
	loaded bool
}

func (h *headCache) ReadAt(ctx context.Context, off, n uint64) ([]byte, error) {
	if !h.loaded && off == 0 && n <= headSize {
		b, err := h.r.ReadAt(ctx, 0, headSize)
		if err != nil {
			return nil, err
		}
		h.head, h.loaded = b, true
	}
	if h.loaded {
		end := off + n
		switch {
		case end <= uint64(len(h.head)):
			return h.head[off:end], nil
		case uint64(len(h.head)) < headSize && off <= uint64(len(h.head)):
			return h.head[off:], nil // the share ends inside the head: a short read
		}
	}
	return h.r.ReadAt(ctx, off, n)
}

// uebLength reads the length field (fs bytes, big-endian) that starts
// b, the front of a share's URI extension block, and bounds it by
// maxUEBSize.
func uebLength(b []byte, fs uint64) (uint64, error) {
	if uint64(len(b)) < fs {
		return 0, fmt.Errorf("URI extension block is missing: %w", ErrCorrupt)
	}
	var n uint64
	if fs == 4 {
		n = uint64(binary.BigEndian.Uint32(b))
	} else {
		n = binary.BigEndian.Uint64(b)
	}
	if n > maxUEBSize {
		return 0, fmt.Errorf("URI extension block length %d: %w", n, ErrCorrupt)
	}
	return n, nil
}
