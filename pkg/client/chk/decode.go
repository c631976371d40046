package chk

import (
	"context"
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// ShareReader reads byte ranges of one share. A read past the end of the
// share returns what exists (short), not an error.
type ShareReader interface {
	ReadAt(ctx context.Context, offset, length uint64) ([]byte, error)
}

// BytesShare is a ShareReader over a share held in memory.
type BytesShare []byte

// ReadAt returns the bytes of [offset, offset+length) that exist.
func (b BytesShare) ReadAt(_ context.Context, offset, length uint64) ([]byte, error) {
	if offset >= uint64(len(b)) {
		return nil, nil
	}
	end := min(offset+length, uint64(len(b)))
	return b[offset:end], nil
}

// NotEnoughSharesError says a file could not be recovered: fewer than k
// shares passed every check.
type NotEnoughSharesError struct {
	Found, Needed int
	Bad           map[int]error // why each rejected share was rejected
}

func (e *NotEnoughSharesError) Error() string {
	msg := fmt.Sprintf("not enough good shares: found %d, need %d", e.Found, e.Needed)
	if len(e.Bad) > 0 {
		nums := make([]int, 0, len(e.Bad))
		for n := range e.Bad {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		msg += fmt.Sprintf(" (share %d: %v", nums[0], e.Bad[nums[0]])
		if len(nums) > 1 {
			msg += fmt.Sprintf("; and %d more rejected", len(nums)-1)
		}
		msg += ")"
	}
	return msg
}

// DecodeOptions tune Decode.
type DecodeOptions struct {
	// OnBadShare, when set, is told about each share that failed a read or
	// a check; another share is used instead.
	OnBadShare func(shnum int, err error)
}

type openShare struct {
	num       int
	r         ShareReader
	hdr       Header
	blockTree hashtree.Tree
}

type decoder struct {
	cap        *caps.Cap
	shares     map[int]ShareReader
	candidates []int // share numbers not yet tried, ascending
	opts       DecodeOptions
	bad        map[int]error

	layout    Layout
	ueb       UEB
	shareRoot []byte
	cryptTree hashtree.Tree
	haveUEB   bool
}

// Decode recovers the file of cap c from any k of the given shares, writing
// the plaintext to w segment by segment. Every block, the share hash tree,
// the ciphertext hash tree and the URI extension block are checked; a share
// that fails is reported through opts and replaced by another. Decode fails
// with *NotEnoughSharesError when fewer than k good shares remain; w may
// then have received part of the file, so callers write to a temporary
// place and keep it only when Decode returns nil.
func Decode(ctx context.Context, c *caps.Cap, shares map[int]ShareReader, w io.Writer, opts DecodeOptions) error {
	switch c.Kind {
	case caps.KindLIT:
		_, err := w.Write(c.Data)
		return err
	case caps.KindCHK:
	default:
		return fmt.Errorf("cannot decode a %s cap as an immutable file", c.Kind)
	}
	d := &decoder{cap: c, shares: shares, opts: opts, bad: map[int]error{}}
	for n := range shares {
		if n >= 0 && n < c.Total {
			d.candidates = append(d.candidates, n)
		}
	}
	sort.Ints(d.candidates)
	var active []*openShare
	for len(active) < c.Needed {
		s, err := d.next(ctx)
		if err != nil {
			return err
		}
		active = append(active, s)
	}
	l := d.layout
	block, err := aes.NewCipher(c.Key)
	if err != nil {
		return fmt.Errorf("AES key: %w", err)
	}
	fec, err := infectious.NewFEC(l.Needed, l.Total)
	if err != nil {
		return err
	}
	flat := caps.NewTaggedHasher(caps.TagCrypttext, 0)
	// Fetching and checking the blocks of the next segment overlaps the
	// hashing, decryption and writing of this one. Only the fetching
	// goroutine touches the decoder's share state.
	type fetched struct {
		blocks map[int][]byte
		shares []*openShare
		err    error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan fetched, 1)
	go func() {
		defer close(ahead)
		for i := 0; i < l.NumSegments; i++ {
			blocks, kept, err := d.readBlocks(ctx, active, i)
			select {
			case ahead <- fetched{blocks, kept, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			active = kept
		}
	}()
	segBuf := make([]byte, l.SegmentSize)
	for i := 0; i < l.NumSegments; i++ {
		f, ok := <-ahead
		if !ok {
			return ctx.Err()
		}
		if f.err != nil {
			return f.err
		}
		off, segLen := l.SegmentBounds(i)
		bl := l.BlockLen(i)
		seg := segBuf[:bl*int64(l.Needed)]
		if err := assemble(fec, f.shares, f.blocks, seg, bl); err != nil {
			return err
		}
		ct := seg[:segLen]
		if subtle.ConstantTimeCompare(caps.TaggedHash(caps.TagCrypttextSegment, ct, 0), d.cryptTree.Leaf(i)) != 1 {
			return fmt.Errorf("segment %d does not match the ciphertext hash tree: %w", i, ErrCorrupt)
		}
		flat.Write(ct)
		ctrStream(block, off).XORKeyStream(ct, ct)
		if _, err := w.Write(ct); err != nil {
			return fmt.Errorf("writing plaintext: %w", err)
		}
	}
	want, err := d.ueb.Hash(uebCrypttextHash)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(flat.Digest(), want) != 1 {
		return fmt.Errorf("the whole ciphertext does not match crypttext_hash: %w", ErrCorrupt)
	}
	return nil
}

// assemble rebuilds the segment's k data blocks into seg.
func assemble(fec *infectious.FEC, active []*openShare, blocks map[int][]byte, seg []byte, bl int64) error {
	systematic := true
	for _, s := range active {
		if s.num >= len(active) {
			systematic = false
		}
	}
	if systematic {
		for _, s := range active {
			copy(seg[int64(s.num)*bl:], blocks[s.num])
		}
		return nil
	}
	in := make([]infectious.Share, 0, len(active))
	for _, s := range active {
		in = append(in, infectious.Share{Number: s.num, Data: blocks[s.num]})
	}
	return fec.Rebuild(in, func(sh infectious.Share) {
		copy(seg[int64(sh.Number)*bl:], sh.Data)
	})
}

// readBlocks fetches segment i's block from every active share at once,
// replacing shares that fail until k good blocks are in hand.
func (d *decoder) readBlocks(ctx context.Context, active []*openShare, i int) (map[int][]byte, []*openShare, error) {
	blocks := map[int][]byte{}
	todo := active
	var kept []*openShare
	for len(todo) > 0 {
		type res struct {
			s   *openShare
			b   []byte
			err error
		}
		out := make([]res, len(todo))
		var wg sync.WaitGroup
		for j, s := range todo {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := d.readBlock(ctx, s, i)
				out[j] = res{s, b, err}
			}()
		}
		wg.Wait()
		todo = nil
		for _, r := range out {
			if r.err == nil {
				blocks[r.s.num] = r.b
				kept = append(kept, r.s)
				continue
			}
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			d.reject(r.s.num, r.err)
			s, err := d.next(ctx)
			if err != nil {
				return nil, nil, err
			}
			todo = append(todo, s)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].num < kept[b].num })
	return blocks, kept, nil
}

func (d *decoder) readBlock(ctx context.Context, s *openShare, i int) ([]byte, error) {
	bl := uint64(d.layout.BlockLen(i))
	off := s.hdr.Data + uint64(i)*uint64(d.layout.BlockSize)
	b, err := s.r.ReadAt(ctx, off, bl)
	if err != nil {
		return nil, fmt.Errorf("reading block %d: %w", i, err)
	}
	if uint64(len(b)) != bl {
		return nil, fmt.Errorf("block %d is short (%d of %d bytes): %w", i, len(b), bl, ErrCorrupt)
	}
	if subtle.ConstantTimeCompare(caps.TaggedHash(caps.TagBlock, b, 0), s.blockTree.Leaf(i)) != 1 {
		return nil, fmt.Errorf("block %d does not match the block hash tree: %w", i, ErrCorrupt)
	}
	return b, nil
}

func (d *decoder) reject(num int, err error) {
	d.bad[num] = err
	if d.opts.OnBadShare != nil {
		d.opts.OnBadShare(num, err)
	}
}

// next opens and checks the next untried share.
func (d *decoder) next(ctx context.Context) (*openShare, error) {
	for len(d.candidates) > 0 {
		num := d.candidates[0]
		d.candidates = d.candidates[1:]
		s, err := d.open(ctx, num)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.reject(num, err)
	}
	good := 0
	for n := range d.shares {
		if _, isBad := d.bad[n]; !isBad && n >= 0 && n < d.cap.Total {
			good++
		}
	}
	return nil, &NotEnoughSharesError{Found: good, Needed: d.cap.Needed, Bad: d.bad}
}

func (d *decoder) open(ctx context.Context, num int) (*openShare, error) {
	r := d.shares[num]
	hb, err := r.ReadAt(ctx, 0, MaxHeaderLen)
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	hdr, err := ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	if !d.haveUEB {
		if err := d.readUEB(ctx, r, hdr); err != nil {
			return nil, err
		}
	}
	if err := hdr.checkAgainst(d.layout); err != nil {
		return nil, err
	}
	want := hdr.URIExtension - hdr.BlockHashes
	b, err := r.ReadAt(ctx, hdr.BlockHashes, want)
	if err != nil {
		return nil, fmt.Errorf("reading hash trees: %w", err)
	}
	if uint64(len(b)) != want {
		return nil, fmt.Errorf("hash trees are short: %w", ErrCorrupt)
	}
	treeLen := hdr.ShareHashes - hdr.BlockHashes
	bt, err := hashtree.Parse(b[:treeLen], d.layout.TreeNodes)
	if err != nil {
		return nil, fmt.Errorf("block hash tree: %v: %w", err, ErrCorrupt)
	}
	if err := bt.Verify(bt.Root()); err != nil {
		return nil, fmt.Errorf("block hash tree: %v: %w", err, ErrCorrupt)
	}
	chain, err := parseChain(b[treeLen:])
	if err != nil {
		return nil, err
	}
	if err := hashtree.VerifyChain(d.shareRoot, d.cap.Total, num, bt.Root(), chain); err != nil {
		return nil, fmt.Errorf("share hash chain: %v: %w", err, ErrCorrupt)
	}
	if d.cryptTree == nil {
		n := hdr.BlockHashes - hdr.CrypttextHashTree
		cb, err := r.ReadAt(ctx, hdr.CrypttextHashTree, n)
		if err != nil {
			return nil, fmt.Errorf("reading crypttext hash tree: %w", err)
		}
		ct, err := hashtree.Parse(cb, d.layout.TreeNodes)
		if err != nil {
			return nil, fmt.Errorf("crypttext hash tree: %v: %w", err, ErrCorrupt)
		}
		root, err := d.ueb.Hash(uebCrypttextRootHash)
		if err != nil {
			return nil, err
		}
		if err := ct.Verify(root); err != nil {
			return nil, fmt.Errorf("crypttext hash tree: %v: %w", err, ErrCorrupt)
		}
		d.cryptTree = ct
	}
	return &openShare{num: num, r: r, hdr: hdr, blockTree: bt}, nil
}

// readUEB reads the URI extension block of a share and checks it against
// the cap; the first good one fixes the file's layout.
func (d *decoder) readUEB(ctx context.Context, r ShareReader, hdr Header) error {
	fs := hdr.FieldSize()
	b, err := r.ReadAt(ctx, hdr.URIExtension, fs+4096)
	if err != nil {
		return fmt.Errorf("reading URI extension block: %w", err)
	}
	if uint64(len(b)) < fs {
		return fmt.Errorf("URI extension block is missing: %w", ErrCorrupt)
	}
	var n uint64
	if fs == 4 {
		n = uint64(binary.BigEndian.Uint32(b))
	} else {
		n = binary.BigEndian.Uint64(b)
	}
	if n > maxUEBSize {
		return fmt.Errorf("URI extension block length %d: %w", n, ErrCorrupt)
	}
	if uint64(len(b)) < fs+n {
		if b, err = r.ReadAt(ctx, hdr.URIExtension, fs+n); err != nil {
			return fmt.Errorf("reading URI extension block: %w", err)
		}
		if uint64(len(b)) < fs+n {
			return fmt.Errorf("URI extension block is short: %w", ErrCorrupt)
		}
	}
	raw := b[fs : fs+n]
	if subtle.ConstantTimeCompare(caps.UEBHash(raw), d.cap.UEBHash) != 1 {
		return fmt.Errorf("URI extension block does not match the cap: %w", ErrCorrupt)
	}
	u, err := ParseUEB(raw)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	l, err := u.Layout(d.cap.Needed, d.cap.Total, d.cap.Size)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	root, err := u.Hash(uebShareRootHash)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	d.layout, d.ueb, d.shareRoot, d.haveUEB = l, u, root, true
	return nil
}
