package chk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk/internal/sha256x2"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// ShareReader reads byte ranges of one share. A read past the end of the
// share returns what exists (short), not an error. Decode may keep a
// returned slice, only reading it, until Decode returns, so the reader must
// not change it afterwards (a fresh slice, or a slice of an immutable
// share, is right). Decode reads a share from several goroutines at once;
// every call has returned by the time Decode returns, so a reader must
// honour ctx.
type ShareReader interface {
	ReadAt(ctx context.Context, offset, length uint64) ([]byte, error)
}

// ShareReaderInto is a ShareReader that can also read into memory the
// caller owns. Decode reads blocks with ReadInto when a reader has it, into
// buffers it reuses from segment to segment.
type ShareReaderInto interface {
	ShareReader
	// ReadInto reads the share's bytes at offset into p and returns how
	// many it read: fewer than len(p) only at the end of the share.
	ReadInto(ctx context.Context, offset uint64, p []byte) (int, error)
}

// BytesShare is a ShareReader over a share held in memory. Its reads return
// slices of it, which Decode only reads.
type BytesShare []byte

// ReadAt returns the bytes of [offset, offset+length) that exist.
func (b BytesShare) ReadAt(_ context.Context, offset, length uint64) ([]byte, error) {
	if offset >= uint64(len(b)) {
		return nil, nil
	}
	end := offset + min(length, uint64(len(b))-offset)
	return b[offset:end], nil
}

// ReaderAtShare is a ShareReaderInto over an io.ReaderAt holding one share
// (a share file, say).
type ReaderAtShare struct {
	R io.ReaderAt
}

// ReadAt returns the bytes of [offset, offset+length) that exist, in a new
// slice.
func (s ReaderAtShare) ReadAt(ctx context.Context, offset, length uint64) ([]byte, error) {
	if length > math.MaxInt32 {
		return nil, fmt.Errorf("read of %d bytes is too large", length)
	}
	b := make([]byte, length)
	n, err := s.ReadInto(ctx, offset, b)
	return b[:n], err
}

// ReadInto reads the bytes at offset into p; fewer than len(p) only at the
// end of the share.
func (s ReaderAtShare) ReadInto(ctx context.Context, offset uint64, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if offset > math.MaxInt64 {
		return 0, nil
	}
	n, err := s.R.ReadAt(p, int64(offset))
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
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
	// a check; another share is used instead. It is called from one
	// goroutine at a time (not necessarily the caller's), and never after
	// Decode has returned.
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
	anyInto   bool // some reader is a ShareReaderInto
}

// Decode recovers the file of cap c from any k of the given shares, writing
// the plaintext to w segment by segment. Every block, the share hash tree,
// the ciphertext hash tree and the URI extension block are checked; a share
// that fails is reported through opts and replaced by another. Decode fails
// with *NotEnoughSharesError when fewer than k good shares remain; w may
// then have received part of the file, so callers write to a temporary
// place and keep it only when Decode returns nil.
//
// The work is a pipeline. One goroutine starts the block reads of every
// segment a free buffer allows (each read checks its block's hash) and
// finishes segments in order, replacing failed shares; one worker per
// processor rebuilds and decrypts segments; one goroutine checks each
// segment's crypttext hash and feeds the whole-file crypttext hash, in
// order; and the calling goroutine writes each checked segment to w in
// order. About two segments per processor are in flight, so memory
// is a few segments whatever the file size. Every goroutine has returned,
// and no ShareReader call or OnBadShare is still running, when Decode
// returns, whatever it returns.
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
	for _, n := range d.candidates {
		if _, ok := shares[n].(ShareReaderInto); ok {
			d.anyInto = true
		}
	}
	var active []*openShare
	for len(active) < c.Needed {
		s, err := d.next(ctx)
		if err != nil {
			return err
		}
		active = append(active, s)
	}
	block, err := aes.NewCipher(c.Key)
	if err != nil {
		return fmt.Errorf("AES key: %w", err)
	}
	if _, err := infectious.NewFEC(d.layout.Needed, d.layout.Total); err != nil {
		return err
	}
	return d.run(ctx, active, block, w)
}

// segJob is one segment on its way through the decoding pipeline.
type segJob struct {
	idx    int
	shares []*openShare    // the k shares used, ascending
	blocks map[int][]byte  // share number → checked block
	mem    *decodeBuf      // where blocks were read into, rebuilt and decrypted
	pieces [][]byte        // the k ciphertext blocks in order (trim to the segment length)
	plain  []byte          // decrypted segment
	refs   atomic.Int32    // the writer and the flat hasher
	free   chan *decodeBuf // where mem goes back
	err    error
	// checked gets the flat hasher's verdict on the segment's crypttext
	// hash; the writer waits for it before writing plain.
	checked chan error
}

// release drops one reference; the last one returns the memory.
func (j *segJob) release() {
	if j.refs.Add(-1) == 0 {
		j.free <- j.mem // never blocks: the channel holds every buffer
	}
}

// decodeBuf is the reusable memory of one segment in flight. Regions are
// allocated on first use and never cleared: every use overwrites them.
type decodeBuf struct {
	reads   []byte // k block slots, for readers with ReadInto
	rebuilt []byte // blocks rebuilt from parity
	plain   []byte
}

func region(b *[]byte, n int64) []byte {
	if *b == nil {
		*b = make([]byte, n)
	}
	return *b
}

// run drives the pipeline over every segment.
func (d *decoder) run(ctx context.Context, active []*openShare, block cipher.Block, w io.Writer) error {
	l := d.layout
	workers, depth := pipelineDepth(3 * l.SegmentSize)
	ctx, cancel := context.WithCancel(ctx)
	var all sync.WaitGroup
	defer func() { cancel(); all.Wait() }()

	// free holds the decodeBufs not in use; fetching a segment takes one,
	// so it is also the window that bounds the segments in flight.
	free := make(chan *decodeBuf, depth)
	for range depth {
		free <- &decodeBuf{}
	}
	jobs := make(chan *segJob, depth)
	results := make(chan *segJob, depth)
	send := func(j *segJob) {
		select {
		case results <- j:
		case <-ctx.Done():
		}
	}

	all.Add(1)
	go func() {
		defer all.Done()
		defer close(jobs)
		d.fetch(ctx, active, free, jobs, send)
	}()
	for range workers {
		all.Add(1)
		go func() {
			defer all.Done()
			fec, err := infectious.NewFEC(l.Needed, l.Total)
			for j := range jobs {
				j.err = err
				if err == nil {
					j.err = d.decodeSegment(fec, block, j)
				}
				send(j)
			}
		}()
	}

	// The whole-file crypttext hash, fed in order, and beside it over the
	// same bytes (sha256x2.Write2) each segment's crypttext hash, which is
	// checked before the writer may write the segment.
	flatIn := make(chan *segJob, depth)
	flatOut := make(chan []byte, 1)
	all.Add(1)
	go func() {
		defer all.Done()
		flat := sha256x2.New(flatTag)
		for j := range flatIn {
			seg := sha256x2.New(segmentTag)
			d.eachPiece(j, func(p []byte) { sha256x2.Write2(flat, seg, p, p) })
			var err error
			if subtle.ConstantTimeCompare(sha256d(seg), d.cryptTree.Leaf(j.idx)) != 1 {
				err = fmt.Errorf("segment %d does not match the ciphertext hash tree: %w", j.idx, ErrCorrupt)
			}
			j.checked <- err // never blocks: room for one
			j.release()
		}
		flatOut <- sha256d(flat)
	}()
	flatOpen := true
	defer func() {
		if flatOpen {
			close(flatIn)
		}
	}()

	pending := map[int]*segJob{}
	var ready []*segJob // handed to the flat hasher, not yet written
	for next := 0; next < l.NumSegments; {
		var j *segJob
		select {
		case j = <-results:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.err != nil {
			return j.err
		}
		pending[j.idx] = j
		// Every segment now in order goes to the flat hasher first, so it
		// hashes the next while the writer writes this one.
		for j := pending[next]; j != nil; j = pending[next] {
			delete(pending, next)
			flatIn <- j // never blocks: at most depth jobs exist
			ready = append(ready, j)
			next++
		}
		for _, j := range ready {
			var err error
			select {
			case err = <-j.checked:
			case <-ctx.Done():
				err = ctx.Err()
			}
			if err == nil {
				if _, werr := w.Write(j.plain); werr != nil {
					err = fmt.Errorf("writing plaintext: %w", werr)
				}
			}
			j.release()
			if err != nil {
				return err
			}
		}
		ready = ready[:0]
	}
	close(flatIn)
	flatOpen = false
	var got []byte
	select {
	case got = <-flatOut:
	case <-ctx.Done():
		return ctx.Err()
	}
	want, err := d.ueb.Hash(uebCrypttextHash)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return fmt.Errorf("the whole ciphertext does not match crypttext_hash: %w", ErrCorrupt)
	}
	return nil
}

// eachPiece calls f with the segment's ciphertext, block by block.
func (d *decoder) eachPiece(j *segJob, f func([]byte)) {
	_, segLen := d.layout.SegmentBounds(j.idx)
	for _, p := range j.pieces {
		n := min(int64(len(p)), segLen)
		f(p[:n])
		segLen -= n
	}
}

// decodeSegment rebuilds the segment's ciphertext from its k blocks (from
// parity if need be) and decrypts it into j.plain (the flat hasher checks
// the ciphertext against the ciphertext hash tree). CTR mode lets any segment be decrypted on its
// own.
func (d *decoder) decodeSegment(fec *infectious.FEC, block cipher.Block, j *segJob) error {
	l := d.layout
	k := l.Needed
	bl := l.BlockLen(j.idx)
	j.pieces = make([][]byte, k)
	systematic := true
	for _, s := range j.shares {
		if s.num >= k {
			systematic = false
		}
	}
	if systematic {
		for _, s := range j.shares {
			j.pieces[s.num] = j.blocks[s.num]
		}
	} else {
		rebuilt := region(&j.mem.rebuilt, l.SegmentSize)
		in := make([]infectious.Share, 0, len(j.shares))
		for _, s := range j.shares {
			in = append(in, infectious.Share{Number: s.num, Data: j.blocks[s.num]})
		}
		err := fec.Rebuild(in, func(sh infectious.Share) {
			if b, ok := j.blocks[sh.Number]; ok {
				j.pieces[sh.Number] = b // one of ours, passed through
				return
			}
			p := rebuilt[int64(sh.Number)*bl : int64(sh.Number+1)*bl]
			copy(p, sh.Data) // Rebuild reuses sh.Data
			j.pieces[sh.Number] = p
		})
		if err != nil {
			return fmt.Errorf("segment %d: erasure decoding: %w", j.idx, err)
		}
	}
	off, segLen := l.SegmentBounds(j.idx)
	// The crypttext hash is checked by the flat hasher before plain is
	// written (decrypting unchecked ciphertext into memory reveals nothing).
	j.plain = region(&j.mem.plain, l.SegmentSize)[:segLen]
	ctr := ctrStream(block, off)
	pos := 0
	d.eachPiece(j, func(p []byte) {
		ctr.XORKeyStream(j.plain[pos:pos+len(p)], p)
		pos += len(p)
	})
	return nil
}

// blockRead is one block read, running or done.
type blockRead struct {
	s    *openShare
	done chan struct{} // closed when b and err are set
	b    []byte
	err  error
}

// fetchSeg is a segment whose block reads have been started: one read per
// slot, slot j reading into mem.reads[j] (for readers with ReadInto).
type fetchSeg struct {
	idx   int
	mem   *decodeBuf
	reads []*blockRead
}

// fetch is the pipeline's first stage and the only goroutine that touches
// the decoder's share state after the first k shares are open. It starts
// the k block reads of each segment as soon as a buffer is free, so reads
// of several segments overlap (which hides the latency of remote shares),
// then finishes segments in order, replacing a share whose block fails
// (and re-reading that slot), and hands each to the workers. Every read it
// started has returned when it returns.
func (d *decoder) fetch(ctx context.Context, active []*openShare, free chan *decodeBuf, jobs chan<- *segJob, send func(*segJob)) {
	l := d.layout
	var reads sync.WaitGroup
	defer reads.Wait()
	start := func(i int, s *openShare, mem *decodeBuf, slot int) *blockRead {
		r := &blockRead{s: s, done: make(chan struct{})}
		reads.Add(1)
		go func() {
			defer reads.Done()
			defer close(r.done)
			r.b, r.err = d.readBlock(ctx, s, i, mem, slot)
		}()
		return r
	}
	var queue []*fetchSeg
	launched := 0
	for finished := 0; finished < l.NumSegments; finished++ {
		// Start every segment a free buffer allows; wait for a buffer
		// only when no segment is in flight.
		for launched < l.NumSegments {
			var mem *decodeBuf
			if len(queue) == 0 {
				select {
				case mem = <-free:
				case <-ctx.Done():
					return
				}
			} else {
				select {
				case mem = <-free:
				default:
				}
			}
			if mem == nil {
				break
			}
			if d.anyInto && mem.reads == nil {
				mem.reads = make([]byte, int64(l.Needed)*l.BlockSize)
			}
			fs := &fetchSeg{idx: launched, mem: mem, reads: make([]*blockRead, len(active))}
			for slot, s := range active {
				fs.reads[slot] = start(launched, s, mem, slot)
			}
			queue = append(queue, fs)
			launched++
		}
		fs := queue[0]
		queue = queue[1:]
		j, err := d.finishSegment(ctx, fs, active, start)
		if err != nil {
			send(&segJob{idx: fs.idx, err: err})
			return
		}
		j.free = free
		select {
		case jobs <- j:
		case <-ctx.Done():
			return
		}
	}
}

// finishSegment waits for a segment's block reads. A failed read rejects
// its share, which the next untried share replaces in that slot (for this
// and every later segment), and the slot is read again. A read started
// before its share was replaced is read again if it failed, and kept if it
// passed its hash check (the block is right whoever served it).
func (d *decoder) finishSegment(ctx context.Context, fs *fetchSeg, active []*openShare, start func(int, *openShare, *decodeBuf, int) *blockRead) (*segJob, error) {
	for slot := 0; slot < len(active); {
		r := fs.reads[slot]
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err == nil {
			slot++
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r.s == active[slot] {
			d.reject(r.s.num, r.err)
			s, err := d.next(ctx)
			if err != nil {
				return nil, err
			}
			active[slot] = s
		}
		// The failed read has returned, so its slot of fs.mem is free.
		fs.reads[slot] = start(fs.idx, active[slot], fs.mem, slot)
	}
	j := &segJob{idx: fs.idx, mem: fs.mem, blocks: make(map[int][]byte, len(fs.reads))}
	for _, r := range fs.reads {
		j.shares = append(j.shares, r.s)
		j.blocks[r.s.num] = r.b
	}
	sort.Slice(j.shares, func(a, b int) bool { return j.shares[a].num < j.shares[b].num })
	j.refs.Store(2)
	j.checked = make(chan error, 1)
	return j, nil
}

// readBlock reads and checks share s's block of segment i.
func (d *decoder) readBlock(ctx context.Context, s *openShare, i int, mem *decodeBuf, slot int) ([]byte, error) {
	bl := d.layout.BlockLen(i)
	off := s.hdr.Data + uint64(i)*uint64(d.layout.BlockSize)
	var b []byte
	if ri, ok := s.r.(ShareReaderInto); ok {
		// Slots are disjoint, so concurrent reads into mem do not overlap;
		// the region itself is allocated by the fetcher before any read.
		p := mem.reads[int64(slot)*d.layout.BlockSize:][:bl]
		n, err := ri.ReadInto(ctx, off, p)
		if err != nil {
			return nil, fmt.Errorf("reading block %d: %w", i, err)
		}
		if n < 0 || n > len(p) {
			return nil, fmt.Errorf("reading block %d: reader returned %d for a %d-byte buffer", i, n, len(p))
		}
		b = p[:n]
	} else {
		var err error
		if b, err = s.r.ReadAt(ctx, off, uint64(bl)); err != nil {
			return nil, fmt.Errorf("reading block %d: %w", i, err)
		}
	}
	if int64(len(b)) != bl {
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
	n, err := uebLength(b, fs)
	if err != nil {
		return err
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
