package chk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk/internal/sha256x2"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// Sink receives the bytes of the shares as they are made. WriteShare is
// called from one goroutine at a time, for every share number 0..N-1: first
// the header at offset 0, then each segment's block in order, then the rest
// of the share (hash trees and URI extension block) in one piece.
//
// Ownership of data: the encoder never writes to a slice once it has passed
// it to the sink. A plain Sink must not keep data after WriteShare returns,
// because the encoder then reuses the memory for a later segment. A Sink
// that also implements RetainingSink may keep the slices it is given until
// it releases them, which lets it write them out later (from other
// goroutines) without copying.
type Sink interface {
	WriteShare(shnum int, offset uint64, data []byte) error
}

// RetainingSink is a Sink that keeps the slices it is given past the call.
// When a sink implements it, the encoder calls WriteShareRetained instead of
// WriteShare for every write, in the same order and from one goroutine at a
// time. data then belongs to the sink, read-only, until the sink calls
// release: exactly once per call, from any goroutine, at any time (before
// WriteShareRetained returns, or later, or after Encode has returned), and
// also when the call fails or the sink drops the data unwritten. After
// release the sink must not touch data again; the encoder recycles a
// segment's memory once every share's block of it has been released.
//
// A sink that never calls release stays correct (its slices are never
// reused) but makes the encoder allocate a new buffer per segment; and since
// the encoder does not wait for releases, the memory a retaining sink holds
// is bounded only by how much the sink itself queues.
type RetainingSink interface {
	Sink
	WriteShareRetained(shnum int, offset uint64, data []byte, release func()) error
}

// Discard is a Sink that keeps nothing (for computing a cap).
var Discard Sink = discard{}

type discard struct{}

func (discard) WriteShare(int, uint64, []byte) error { return nil }

// Result describes an encoded file.
type Result struct {
	Cap           *caps.Cap
	Layout        Layout
	Header        Header
	Key           []byte // AES-128 key
	StorageIndex  []byte
	UEB           []byte // the packed URI extension block
	AllocatedSize uint64 // length of every share
}

// Plan computes the layout, share header and share length of a file of the
// given size before encoding it (the uploader allocates space with it).
func Plan(size uint64, p Params) (Layout, Header, uint64, error) {
	l, err := NewLayout(size, p)
	if err != nil {
		return Layout{}, Header{}, 0, err
	}
	h := newHeader(l)
	zero := make([]byte, 32)
	uebLen := len(newUEB(l, zero, zero, zero).Pack())
	return l, h, h.AllocatedSize(uebLen), nil
}

// ConvergenceTag is the tag of the convergent key hash: Tahoe's
// "allmydata_immutable_content_to_key_with_added_secret_v1+" followed by
// netstring(secret) and netstring("k,N,segsize").
func ConvergenceTag(secret []byte, k, n int, segsize int64) []byte {
	tag := []byte(caps.TagConvergence)
	tag = append(tag, caps.Netstring(secret)...)
	return append(tag, caps.Netstring([]byte(fmt.Sprintf("%d,%d,%d", k, n, segsize)))...)
}

// Key returns the AES key for an upload: the convergent hash of the
// plaintext with the secret and encoding parameters, or a random key when
// p.NoConvergence is set. It reads src once, front to back; reading the next
// chunk overlaps hashing this one.
func Key(ctx context.Context, src io.ReaderAt, size uint64, p Params) ([]byte, error) {
	if p.NoConvergence {
		k := make([]byte, caps.KeyLen)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
		return k, nil
	}
	l, err := NewLayout(size, p)
	if err != nil {
		return nil, err
	}
	h := caps.NewTaggedHasher(string(ConvergenceTag(p.Convergence, p.Needed, p.Total, l.SegmentSize)), caps.KeyLen)
	if err := readChunks(ctx, src, size, keyChunk, func(b []byte) { h.Write(b) }); err != nil {
		return nil, err
	}
	return h.Digest(), nil
}

// keyChunk is the read size of the key pass.
const keyChunk = 1 << 20

// readChunks reads src[0:size) in chunks of at most chunk bytes and calls
// use with each, in order, on the calling goroutine. A second goroutine
// reads ahead into two spare buffers; it has returned before readChunks
// does.
func readChunks(ctx context.Context, src io.ReaderAt, size uint64, chunk int, use func([]byte)) error {
	if size <= uint64(chunk) {
		buf := make([]byte, size)
		if err := readFull(src, buf, 0); err != nil {
			return err
		}
		use(buf)
		return nil
	}
	type filled struct {
		buf []byte
		err error
	}
	const spare = 3 // one being hashed, two read ahead
	free := make(chan []byte, spare)
	for range spare {
		free <- make([]byte, chunk)
	}
	full := make(chan filled, spare)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		for off := uint64(0); off < size; {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				return
			}
			n := min(uint64(chunk), size-off)
			err := ctx.Err()
			if err == nil {
				err = readFull(src, buf[:n], off)
			}
			full <- filled{buf[:n], err} // never blocks: at most spare buffers exist
			if err != nil {
				return
			}
			off += n
		}
	}()
	for f := range full {
		if f.err != nil {
			return f.err
		}
		use(f.buf)
		free <- f.buf[:cap(f.buf)]
	}
	return ctx.Err()
}

// readFull reads exactly len(buf) bytes of src at off.
func readFull(src io.ReaderAt, buf []byte, off uint64) error {
	got, err := src.ReadAt(buf, int64(off))
	if got < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading plaintext at %d: %w", off, err)
	}
	return nil
}

// ctrStream returns AES-128-CTR keyed with key, positioned at byte offset
// off of the stream (the counter block starts at zero).
func ctrStream(block cipher.Block, off int64) cipher.Stream {
	var iv [aes.BlockSize]byte
	binary.BigEndian.PutUint64(iv[8:], uint64(off/aes.BlockSize))
	s := cipher.NewCTR(block, iv[:])
	if skip := off % aes.BlockSize; skip > 0 {
		var junk [aes.BlockSize]byte
		s.XORKeyStream(junk[:skip], junk[:skip])
	}
	return s
}

// segBuf is the memory of one segment in flight: its plaintext, encrypted
// in place into ciphertext, the zero padding of the tail, and the parity
// blocks. Data blocks are slices of the ciphertext. It returns to its pool
// when every holder (each share's block, and the flat crypttext hash) has
// released it.
type segBuf struct {
	b       []byte
	refs    atomic.Int32
	pool    *segPool
	release func() // s.done, made once so handing it out does not allocate
}

func (s *segBuf) done() {
	switch n := s.refs.Add(-1); {
	case n == 0:
		if poisonReleased && len(s.b) > 0 {
			s.b[0] = 0xdb
			for j := 1; j < len(s.b); j *= 2 {
				copy(s.b[j:], s.b[:j])
			}
		}
		s.pool.put(s)
	case n < 0:
		panic("chk: segment buffer released more often than handed out")
	}
}

// segPool recycles the segment buffers of one encoding. It is a bounded
// free list rather than a sync.Pool: reuse does not depend on when the
// garbage collector runs, and buffers a retaining sink returns after the
// encoding has ended simply go with the pool.
type segPool struct {
	size int64
	free chan *segBuf
}

// newSegPool returns a pool of buffers for the segments of layout l that
// keeps up to keep of them.
func newSegPool(l Layout, keep int) *segPool {
	return &segPool{size: l.SegmentSize + int64(l.Total-l.Needed)*l.BlockSize, free: make(chan *segBuf, keep)}
}

func (p *segPool) get() *segBuf {
	select {
	case s := <-p.free:
		return s
	default:
		s := &segBuf{b: make([]byte, p.size), pool: p}
		s.release = s.done
		return s
	}
}

func (p *segPool) put(s *segBuf) {
	select {
	case p.free <- s:
	default: // more are out than the pool keeps: let this one go
	}
}

// segResult is one encoded segment.
type segResult struct {
	idx         int
	buf         *segBuf
	ciphertext  []byte   // unpadded
	blocks      [][]byte // N blocks
	blockHashes [][]byte // N leaf hashes
	err         error
}

// Encode encrypts and encodes src (size bytes) with a key from Key and
// streams every share into sink.
func Encode(ctx context.Context, src io.ReaderAt, size uint64, p Params, sink Sink) (*Result, error) {
	if size <= LITMax {
		return nil, fmt.Errorf("a %d-byte file is a LIT file, not CHK", size)
	}
	key, err := Key(ctx, src, size, p)
	if err != nil {
		return nil, err
	}
	return EncodeWithKey(ctx, src, size, key, p, sink)
}

// retainedSegments is how many more segment buffers the pool keeps for
// reuse when the sink retains blocks.
const retainedSegments = 32

// maxInFlight bounds the memory of the segments a codec pipeline holds at
// once (at least two segments are always allowed).
const maxInFlight = 64 << 20

// pipelineDepth returns how many workers and how many segments in flight a
// codec pipeline uses for segments needing perSeg bytes each: about two
// segments per worker, one worker per processor.
func pipelineDepth(perSeg int64) (workers, window int) {
	workers = runtime.GOMAXPROCS(0)
	window = 2 * workers
	if perSeg > 0 && int64(window) > maxInFlight/perSeg {
		window = int(maxInFlight / perSeg)
	}
	window = max(window, 2)
	workers = max(min(workers, window), 1)
	return workers, window
}

// EncodeWithKey is Encode with a given AES key. Segments are read,
// encrypted, erasure-coded and their blocks hashed by one worker per
// processor; one goroutine hands them to sink in order and another makes,
// in order, the whole-file crypttext hash and beside it (over the same
// bytes) each segment's crypttext hash. Every goroutine has returned, and src is no longer read,
// when EncodeWithKey returns.
func EncodeWithKey(ctx context.Context, src io.ReaderAt, size uint64, key []byte, p Params, sink Sink) (*Result, error) {
	l, hdr, alloc, err := Plan(size, p)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("AES key: %w", err)
	}
	retaining, _ := sink.(RetainingSink)
	write := func(sh int, off uint64, data []byte, release func()) error {
		if retaining != nil {
			return retaining.WriteShareRetained(sh, off, data, release)
		}
		err := sink.WriteShare(sh, off, data)
		release()
		return err
	}
	headerBytes := hdr.Bytes() // shared by every share; never written to again
	for sh := 0; sh < l.Total; sh++ {
		if err := write(sh, 0, headerBytes, noRelease); err != nil {
			return nil, err
		}
	}

	workers, depth := pipelineDepth(l.SegmentSize * int64(l.Total) / int64(l.Needed))
	// Segments between the feeder and the sink, and as many again queued
	// for the flat hash.
	// A retaining sink holds segments longer (until its writes return):
	// keeping room for them in the free list lets each buffer be reused
	// instead of left to the collector, so memory stays at the peak held at
	// once whatever the file size (the list never holds more buffers than
	// were ever out at the same time).
	keep := 2*depth + 1
	if retaining != nil {
		keep += retainedSegments
	}
	pool := newSegPool(l, keep)
	ctx, cancel := context.WithCancel(ctx)
	var all sync.WaitGroup // every goroutine below
	defer func() { cancel(); all.Wait() }()

	jobs := make(chan int)
	results := make(chan segResult, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		all.Add(1)
		go func() {
			defer all.Done()
			defer wg.Done()
			fec, err := infectious.NewFEC(l.Needed, l.Total)
			for idx := range jobs {
				r := segResult{idx: idx, err: err}
				if err == nil {
					r = encodeSegment(fec, block, src, l, idx, pool)
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// Feed at most depth segments ahead of the writer, so memory stays
	// bounded by a few segments whatever the file size.
	window := make(chan struct{}, depth)
	all.Add(2)
	go func() {
		defer all.Done()
		defer close(jobs)
		for i := 0; i < l.NumSegments; i++ {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { defer all.Done(); wg.Wait(); close(results) }()

	// The whole-file crypttext hash runs on its own goroutine, fed in
	// order. Each segment's own crypttext hash is made there too, over the
	// same bytes at the same time (sha256x2), into cryptLeaves.
	cryptLeaves := make([][]byte, l.NumSegments)
	flatIn := make(chan segResult, depth)
	var flatDigest []byte
	all.Add(1)
	go func() {
		defer all.Done()
		flat := sha256x2.New(flatTag)
		for r := range flatIn {
			if ctx.Err() == nil {
				seg := sha256x2.New(segmentTag)
				sha256x2.Write2(flat, seg, r.ciphertext, r.ciphertext)
				cryptLeaves[r.idx] = sha256d(seg)
			}
			r.buf.release()
		}
		flatDigest = sha256d(flat)
	}()
	flatOpen := true
	closeFlat := func() {
		if flatOpen {
			close(flatIn)
			flatOpen = false
		}
	}
	defer closeFlat()

	blockLeaves := make([][][]byte, l.Total)
	for sh := range blockLeaves {
		blockLeaves[sh] = make([][]byte, l.NumSegments)
	}
	pending := map[int]segResult{}
	next := 0
	for next < l.NumSegments {
		var r segResult
		var ok bool
		select {
		case r, ok = <-results:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !ok {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("encoder stopped early")
		}
		if r.err != nil {
			return nil, r.err
		}
		pending[r.idx] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			flatIn <- r // never blocks for long: the flat hasher only hashes
			for sh := 0; sh < l.Total; sh++ {
				blockLeaves[sh][next] = r.blockHashes[sh]
				off := hdr.Data + uint64(next)*uint64(l.BlockSize)
				if err := write(sh, off, r.blocks[sh], r.buf.release); err != nil {
					return nil, err
				}
			}
			next++
			<-window
		}
	}
	closeFlat()
	all.Wait() // the flat hasher is done once every goroutine is
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	cryptTree := hashtree.New(cryptLeaves)
	blockTrees := make([]hashtree.Tree, l.Total)
	shareLeaves := make([][]byte, l.Total)
	for sh := range blockTrees {
		blockTrees[sh] = hashtree.New(blockLeaves[sh])
		shareLeaves[sh] = blockTrees[sh].Root()
	}
	shareTree := hashtree.New(shareLeaves)
	ueb := newUEB(l, flatDigest, cryptTree.Root(), shareTree.Root()).Pack()
	if uint64(len(ueb)) != alloc-hdr.URIExtension-hdr.FieldSize() {
		return nil, fmt.Errorf("internal error: URI extension block is %d bytes, planned %d", len(ueb), alloc-hdr.URIExtension-hdr.FieldSize())
	}
	treeBytes := uint64(l.TreeNodes) * hashtree.HashSize
	cryptBytes := cryptTree.Bytes()
	for sh := 0; sh < l.Total; sh++ {
		tail := make([]byte, treeBytes, alloc-hdr.PlaintextHashTree) // zeroed plaintext hash tree
		tail = append(tail, cryptBytes...)
		tail = append(tail, blockTrees[sh].Bytes()...)
		tail = append(tail, chainBytes(shareTree, l.Total, sh)...)
		if hdr.Version == 1 {
			tail = binary.BigEndian.AppendUint32(tail, uint32(len(ueb)))
		} else {
			tail = binary.BigEndian.AppendUint64(tail, uint64(len(ueb)))
		}
		tail = append(tail, ueb...)
		if err := write(sh, hdr.PlaintextHashTree, tail, noRelease); err != nil {
			return nil, err
		}
	}
	c, err := caps.NewCHK(key, caps.UEBHash(ueb), l.Needed, l.Total, size)
	if err != nil {
		return nil, err
	}
	return &Result{Cap: c, Layout: l, Header: hdr, Key: key, StorageIndex: c.StorageIndex, UEB: ueb, AllocatedSize: alloc}, nil
}

// noRelease is the release of memory the encoder does not recycle (headers
// and share tails are allocated for the sink and left to the collector).
func noRelease() {}

// encodeSegment reads, encrypts and erasure-codes segment idx into a
// buffer from pool, and hashes its blocks. The buffer is not cleared: the
// plaintext and every parity block overwrite their regions, and only the
// tail's zero padding is cleared explicitly.
func encodeSegment(fec *infectious.FEC, block cipher.Block, src io.ReaderAt, l Layout, idx int, pool *segPool) segResult {
	off, n := l.SegmentBounds(idx)
	padded := n
	if idx == l.NumSegments-1 {
		padded = l.TailPadded
	}
	bl := padded / int64(l.Needed)
	sb := pool.get()
	buf := sb.b[:padded+int64(l.Total-l.Needed)*bl]
	plain := buf[:n]
	if err := readFull(src, plain, uint64(off)); err != nil {
		pool.put(sb)
		return segResult{idx: idx, err: err}
	}
	clear(buf[n:padded])
	ctrStream(block, off).XORKeyStream(plain, plain)
	r := segResult{idx: idx, buf: sb, ciphertext: plain}
	data := buf[:padded]
	r.blocks = make([][]byte, l.Total)
	for sh := 0; sh < l.Total; sh++ {
		var b []byte
		if sh < l.Needed {
			b = data[int64(sh)*bl : int64(sh+1)*bl]
		} else {
			b = buf[padded+int64(sh-l.Needed)*bl : padded+int64(sh-l.Needed+1)*bl]
			if err := fec.EncodeSingle(data, b, sh); err != nil { // clears b first
				pool.put(sb)
				return segResult{idx: idx, err: fmt.Errorf("erasure coding: %w", err)}
			}
		}
		r.blocks[sh] = b
	}
	r.blockHashes = blockHashes(r.blocks)
	// One reference per share's block and one for the flat crypttext hash.
	sb.refs.Store(int32(l.Total + 1))
	return r
}

// The netstring prefixes of the tagged hashes the encoder makes.
var (
	blockTag   = caps.Netstring([]byte(caps.TagBlock))
	segmentTag = caps.Netstring([]byte(caps.TagCrypttextSegment))
	flatTag    = caps.Netstring([]byte(caps.TagCrypttext))
)

// sha256d finishes a tagged hash: SHA-256 of the SHA-256 of what d was
// written (caps.TaggedHash, untruncated).
func sha256d(d *sha256x2.Digest) []byte {
	inner := d.Sum()
	outer := sha256.Sum256(inner[:])
	return outer[:]
}

// blockHashes returns the tagged SHA-256d hash (caps.TagBlock) of every
// block of a segment. The blocks all have one length, so they are hashed
// two at a time (sha256x2), which on a core with the SHA extensions costs
// little more than hashing one. The hashes share one allocation.
func blockHashes(blocks [][]byte) [][]byte {
	out := make([][]byte, len(blocks))
	mem := make([]byte, len(blocks)*sha256x2.Size)
	for i := 0; i < len(blocks); i += 2 {
		var da, db [sha256x2.Size]byte
		if i+1 < len(blocks) {
			da, db = sha256x2.Sum2(blockTag, blocks[i], blocks[i+1])
		} else {
			da, _ = sha256x2.Sum2(blockTag, blocks[i], blocks[i])
		}
		for j, d := range [][sha256x2.Size]byte{da, db}[:min(2, len(blocks)-i)] {
			outer := sha256.Sum256(d[:])
			h := mem[(i+j)*sha256x2.Size : (i+j+1)*sha256x2.Size : (i+j+1)*sha256x2.Size]
			copy(h, outer[:])
			out[i+j] = h
		}
	}
	return out
}

// LITCap returns the cap of a file of at most LITMax bytes.
func LITCap(data []byte) (*caps.Cap, error) {
	if len(data) > LITMax {
		return nil, errors.New("file too large for a LIT cap (" + strconv.Itoa(len(data)) + " bytes)")
	}
	return caps.NewLIT(append([]byte(nil), data...)), nil
}
