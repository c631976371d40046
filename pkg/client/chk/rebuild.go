package chk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// OnBadShare, when set, is told about each given share that failed a
	// read or a check; another one is used instead.
	OnBadShare func(shnum int, err error)
}

// Rebuild regenerates shares of an immutable file from good ones, without
// the file's key: it needs only the cap's verify part (a CHK read or verify
// cap, or an immutable directory's). It reads each segment's blocks from k
// of the given shares (checking every one against its share's hash trees),
// erasure-codes the blocks of the shares in want, and writes those shares
// to sink as the encoder does (header, blocks in order, then the hash trees
// and URI extension block in one piece). The rebuilt shares are the ones
// the original upload wrote, byte for byte: same offsets table, same
// hash trees, same URI extension block, so the cap is unchanged.
//
// Share numbers in want that are also among the given shares are rebuilt
// anyway (the caller asked). It fails with *NotEnoughSharesError when fewer
// than k of the given shares are good.
func Rebuild(ctx context.Context, c *caps.Cap, good map[int]ShareReader, want []int, sink Sink, opts RebuildOptions) error {
	fc, err := fileCap(c)
	if err != nil {
		return err
	}
	wanted := map[int]bool{}
	for _, sh := range want {
		if sh < 0 || sh >= fc.Total {
			return fmt.Errorf("share %d of a %d-share file cannot be rebuilt", sh, fc.Total)
		}
		wanted[sh] = true
	}
	if len(wanted) == 0 {
		return nil
	}
	bad := map[int]error{}
	reject := func(sh int, err error) {
		bad[sh] = err
		if opts.OnBadShare != nil {
			opts.OnBadShare(sh, err)
		}
	}
	// Open every given share's metadata: the good ones' block tree roots
	// are leaves of the share hash tree the rebuilt shares' chains need.
	nums := make([]int, 0, len(good))
	for sh := range good {
		if sh >= 0 && sh < fc.Total {
			nums = append(nums, sh)
		}
	}
	sort.Ints(nums)
	opened := map[int]*ShareInfo{}
	var order []int
	for _, sh := range nums {
		info, err := OpenShare(ctx, fc, sh, good[sh])
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			reject(sh, err)
			continue
		}
		opened[sh] = info
		order = append(order, sh)
	}
	if len(order) < fc.Needed {
		return &NotEnoughSharesError{Found: len(order), Needed: fc.Needed, Bad: bad}
	}
	ref := opened[order[0]]
	l := ref.Layout
	// Every share not opened good is regenerated: those wanted are written,
	// the others only hashed, so the whole share hash tree is known.
	var regen []int
	for sh := 0; sh < fc.Total; sh++ {
		if _, ok := opened[sh]; !ok || wanted[sh] {
			regen = append(regen, sh)
		}
	}
	for _, sh := range regen {
		if wanted[sh] {
			if err := sink.WriteShare(sh, 0, ref.HeaderBytes); err != nil {
				return err
			}
		}
	}
	fec, err := infectious.NewFEC(l.Needed, l.Total)
	if err != nil {
		return err
	}
	leaves := make(map[int][][]byte, len(regen))
	for _, sh := range regen {
		leaves[sh] = make([][]byte, l.NumSegments)
	}
	src := &blockSource{ctx: ctx, good: good, opened: opened, spare: order[l.Needed:], reject: reject, bad: bad, needed: fc.Needed}
	src.active = append([]int(nil), order[:l.Needed]...)
	data := make([]byte, l.SegmentSize)
	parity := make([]byte, int64(len(regen))*l.BlockSize) // a block per regenerated share
	regenBlocks := make([][]byte, len(regen))
	for _, run := range blockRuns(l) {
		blocks, err := src.read(run[0], run[1])
		if err != nil {
			return err
		}
		for i := run[0]; i < run[1]; i++ {
			bl := l.BlockLen(i)
			seg := data[:bl*int64(l.Needed)]
			in := make([]infectious.Share, 0, l.Needed)
			for _, sh := range src.active {
				in = append(in, infectious.Share{Number: sh, Data: blocks[sh][i-run[0]]})
			}
			if err := fec.Rebuild(in, func(s infectious.Share) { copy(seg[int64(s.Number)*bl:], s.Data) }); err != nil {
				return fmt.Errorf("erasure decoding segment %d: %w", i, err)
			}
			for k, sh := range regen {
				var b []byte
				if sh < l.Needed {
					b = seg[int64(sh)*bl : int64(sh+1)*bl]
				} else {
					b = parity[int64(k)*l.BlockSize:][:bl]
					if err := fec.EncodeSingle(seg, b, sh); err != nil {
						return fmt.Errorf("erasure coding segment %d: %w", i, err)
					}
				}
				regenBlocks[k] = b
			}
			for k, h := range blockHashes(regenBlocks) { // two at a time
				sh := regen[k]
				leaves[sh][i] = h
				if wanted[sh] {
					if err := sink.WriteShare(sh, ref.Header.Data+uint64(i)*uint64(l.BlockSize), regenBlocks[k]); err != nil {
						return err
					}
				}
			}
		}
	}
	shareLeaves := make([][]byte, l.Total)
	trees := make(map[int]hashtree.Tree, len(regen))
	for sh := 0; sh < l.Total; sh++ {
		if lv, ok := leaves[sh]; ok {
			trees[sh] = hashtree.New(lv)
			shareLeaves[sh] = trees[sh].Root()
		} else {
			shareLeaves[sh] = opened[sh].BlockTree.Root()
		}
	}
	shareTree := hashtree.New(shareLeaves)
	u, err := ParseUEB(ref.UEB)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	root, err := u.Hash(uebShareRootHash)
	if err != nil {
		return errors.Join(err, ErrCorrupt)
	}
	if !bytes.Equal(shareTree.Root(), root) {
		return fmt.Errorf("rebuilt shares do not hash to the file's share root: %w", ErrCorrupt)
	}
	cryptBytes := ref.CrypttextTree.Bytes()
	for _, sh := range regen {
		if !wanted[sh] {
			continue
		}
		hdr := ref.Header
		tail := make([]byte, 0, uint64(len(ref.Unused))+hdr.URIExtension-hdr.CrypttextHashTree+hdr.FieldSize()+uint64(len(ref.UEB)))
		tail = append(tail, ref.Unused...)
		tail = append(tail, cryptBytes...)
		tail = append(tail, trees[sh].Bytes()...)
		tail = append(tail, chainBytes(shareTree, l.Total, sh)...)
		if hdr.Version == 1 {
			tail = binary.BigEndian.AppendUint32(tail, uint32(len(ref.UEB)))
		} else {
			tail = binary.BigEndian.AppendUint64(tail, uint64(len(ref.UEB)))
		}
		tail = append(tail, ref.UEB...)
		if err := sink.WriteShare(sh, hdr.PlaintextHashTree, tail); err != nil {
			return err
		}
	}
	return nil
}

// blockSource reads runs of verified blocks from k good shares at once,
// swapping in a spare share when one fails.
type blockSource struct {
	ctx    context.Context
	good   map[int]ShareReader
	opened map[int]*ShareInfo
	active []int // k share numbers in use
	spare  []int // opened shares not yet used
	reject func(int, error)
	bad    map[int]error
	needed int
}

// read returns, per active share, the blocks of segments [first, end).
func (s *blockSource) read(first, end int) (map[int][][]byte, error) {
	out := map[int][][]byte{}
	todo := append([]int(nil), s.active...)
	for len(todo) > 0 {
		res := make([][][]byte, len(todo))
		errs := make([]error, len(todo))
		var wg sync.WaitGroup
		for j, sh := range todo {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[j], errs[j] = s.opened[sh].readBlockRun(s.ctx, s.good[sh], first, end)
			}()
		}
		wg.Wait()
		var again []int
		for j, sh := range todo {
			if errs[j] == nil {
				out[sh] = res[j]
				continue
			}
			if err := s.ctx.Err(); err != nil {
				return nil, err
			}
			s.reject(sh, errs[j])
			if len(s.spare) == 0 {
				return nil, &NotEnoughSharesError{Found: len(s.opened) - len(s.bad), Needed: s.needed, Bad: s.bad}
			}
			next := s.spare[0]
			s.spare = s.spare[1:]
			again = append(again, next)
			s.replace(sh, next)
		}
		todo = again
	}
	return out, nil
}

// replace swaps share old for new among the active ones, keeping them in
// ascending order.
func (s *blockSource) replace(old, new int) {
	for i, sh := range s.active {
		if sh == old {
			s.active[i] = new
		}
	}
	sort.Ints(s.active)
}
