package chk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// Sink receives the bytes of the shares as they are made. WriteShare is
// called from one goroutine at a time, for every share number 0..N-1: first
// the header at offset 0, then each segment's block in order, then the rest
// of the share (hash trees and URI extension block) in one piece. data is
// only valid during the call.
type Sink interface {
	WriteShare(shnum int, offset uint64, data []byte) error
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
// p.NoConvergence is set. It reads src once.
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
	buf := make([]byte, 1<<20)
	for off := uint64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(uint64(len(buf)), size-off)
		got, err := src.ReadAt(buf[:n], int64(off))
		if uint64(got) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading plaintext at %d: %w", off, err)
		}
		h.Write(buf[:n])
		off += n
	}
	return h.Digest(), nil
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

// segResult is one encoded segment.
type segResult struct {
	idx         int
	ciphertext  []byte   // unpadded
	blocks      [][]byte // N blocks
	blockHashes [][]byte // N leaf hashes
	cryptHash   []byte   // crypttext segment hash
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

// EncodeWithKey is Encode with a given AES key.
func EncodeWithKey(ctx context.Context, src io.ReaderAt, size uint64, key []byte, p Params, sink Sink) (*Result, error) {
	l, hdr, alloc, err := Plan(size, p)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("AES key: %w", err)
	}
	headerBytes := hdr.Bytes()
	for sh := 0; sh < l.Total; sh++ {
		if err := sink.WriteShare(sh, 0, headerBytes); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan int)
	results := make(chan segResult, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fec, err := infectious.NewFEC(l.Needed, l.Total)
			for idx := range jobs {
				r := segResult{idx: idx, err: err}
				if err == nil {
					r = encodeSegment(fec, block, src, l, idx)
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// Feed at most 2*workers segments ahead of the writer, so memory stays
	// bounded by a few segments whatever the file size.
	window := make(chan struct{}, 2*workers)
	go func() {
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
	go func() { wg.Wait(); close(results) }()

	flat := caps.NewTaggedHasher(caps.TagCrypttext, 0)
	cryptLeaves := make([][]byte, l.NumSegments)
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
			flat.Write(r.ciphertext)
			cryptLeaves[next] = r.cryptHash
			for sh := 0; sh < l.Total; sh++ {
				blockLeaves[sh][next] = r.blockHashes[sh]
				off := hdr.Data + uint64(next)*uint64(l.BlockSize)
				if err := sink.WriteShare(sh, off, r.blocks[sh]); err != nil {
					return nil, err
				}
			}
			next++
			<-window
		}
	}

	cryptTree := hashtree.New(cryptLeaves)
	blockTrees := make([]hashtree.Tree, l.Total)
	shareLeaves := make([][]byte, l.Total)
	for sh := range blockTrees {
		blockTrees[sh] = hashtree.New(blockLeaves[sh])
		shareLeaves[sh] = blockTrees[sh].Root()
	}
	shareTree := hashtree.New(shareLeaves)
	ueb := newUEB(l, flat.Digest(), cryptTree.Root(), shareTree.Root()).Pack()
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
		if err := sink.WriteShare(sh, hdr.PlaintextHashTree, tail); err != nil {
			return nil, err
		}
	}
	c, err := caps.NewCHK(key, caps.UEBHash(ueb), l.Needed, l.Total, size)
	if err != nil {
		return nil, err
	}
	return &Result{Cap: c, Layout: l, Header: hdr, Key: key, StorageIndex: c.StorageIndex, UEB: ueb, AllocatedSize: alloc}, nil
}

// encodeSegment reads, encrypts, hashes and erasure-codes segment idx.
func encodeSegment(fec *infectious.FEC, block cipher.Block, src io.ReaderAt, l Layout, idx int) segResult {
	off, n := l.SegmentBounds(idx)
	padded := n
	if idx == l.NumSegments-1 {
		padded = l.TailPadded
	}
	bl := padded / int64(l.Needed)
	buf := make([]byte, padded+int64(l.Total-l.Needed)*bl)
	plain := buf[:n]
	got, err := src.ReadAt(plain, off)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return segResult{idx: idx, err: fmt.Errorf("reading plaintext at %d: %w", off, err)}
	}
	ctrStream(block, off).XORKeyStream(plain, plain)
	r := segResult{idx: idx, ciphertext: plain, cryptHash: caps.TaggedHash(caps.TagCrypttextSegment, plain, 0)}
	data := buf[:padded] // zero padding already in place
	r.blocks = make([][]byte, l.Total)
	r.blockHashes = make([][]byte, l.Total)
	for sh := 0; sh < l.Total; sh++ {
		var b []byte
		if sh < l.Needed {
			b = data[int64(sh)*bl : int64(sh+1)*bl]
		} else {
			b = buf[padded+int64(sh-l.Needed)*bl : padded+int64(sh-l.Needed+1)*bl]
			if err := fec.EncodeSingle(data, b, sh); err != nil {
				return segResult{idx: idx, err: fmt.Errorf("erasure coding: %w", err)}
			}
		}
		r.blocks[sh] = b
		r.blockHashes[sh] = caps.TaggedHash(caps.TagBlock, b, 0)
	}
	return r
}

// LITCap returns the cap of a file of at most LITMax bytes.
func LITCap(data []byte) (*caps.Cap, error) {
	if len(data) > LITMax {
		return nil, errors.New("file too large for a LIT cap (" + strconv.Itoa(len(data)) + " bytes)")
	}
	return caps.NewLIT(append([]byte(nil), data...)), nil
}
