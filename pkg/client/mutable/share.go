// Package mutable reads and writes the shares of Tahoe-LAFS mutable files
// (SDMF and MDMF), byte-compatible with Tahoe.
//
// Reading: ParseShare parses the share data inside a storage server's
// mutable container (SDMF's header with its IV and 32-bit offsets, MDMF's
// header with 64-bit offsets, per-segment salts and salt-covering block
// hashes), strictly and without trusting any length or offset. Verify
// checks a share as Tahoe's retrieve does: the verification key against
// the cap's fingerprint, the RSA-PSS (MGF1-SHA256, 32-byte salt) signature
// over the signed prefix, the share hash chain against the signed root
// hash. Decode, DecodeShares and Retrieve pick the newest version (seqnum,
// then root hash) with k good shares, check every block against its block
// hash tree, erasure-decode and decrypt with AES-CTR under the per-salt
// data key, skipping any share that fails.
//
// Finding shares: Retrieve and Overwrite share one servermap routine that
// asks every server at once (each under Options.Timeout) what it holds and
// reads the first bytes of each share (the header; small shares, most
// directories, whole). A read stops waiting once the newest version seen
// has k shares (after Options.Grace), having started reading the rest of k
// shares of it meanwhile, and reads more only when some fail. A share that
// fails a check is read again: when it changed meanwhile it was caught
// half rewritten by a writer (ErrTorn) and is not advised corrupt;
// otherwise it is advised corrupt to its server. A read that finds no
// good version asks the servers once more. A write hears every server out
// and waits for a map that mixes versions (another writer half way) to
// settle before it writes. ReadHeaders reads what Verify needs of a share,
// not its blocks, for a checker.
//
// Writing: Build lays out a new version's shares as Tahoe's publisher
// does, Create writes a new file to every server at once and Overwrite
// replaces a file's contents with test-and-set writes. Partial (in-place segment) MDMF updates,
// servermap-based repair and the storage container format (pkg/storage)
// are not here; directory contents are parsed by pkg/client/dirnode.
package mutable

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/client/hashtree"
)

// Share versions.
const (
	VersionSDMF = 0
	VersionMDMF = 1
)

const (
	saltSize         = 16
	sdmfSignedLen    = 1 + 8 + 32 + 16 + 1 + 1 + 8 + 8 // ">BQ32s16sBBQQ"
	sdmfHeaderLen    = sdmfSignedLen + 4*4 + 8*2       // + ">LLLLQQ"
	mdmfSignedLen    = 1 + 8 + 32 + 1 + 1 + 8 + 8      // ">BQ32sBBQQ"
	mdmfHeaderLen    = mdmfSignedLen + 8*8             // + ">QQQQQQQQ"
	maxShareDataSize = 1 << 40
)

// ErrCorrupt wraps every error about share contents.
var ErrCorrupt = errors.New("corrupt mutable share")

// Share is one parsed mutable share (the data inside a storage server's
// mutable container).
type Share struct {
	Num         int
	Version     int // VersionSDMF or VersionMDMF
	Seqnum      uint64
	RootHash    []byte // share hash tree root, signed
	IV          []byte // SDMF only: the file's salt
	Needed      int
	Total       int
	SegmentSize uint64
	DataLength  uint64

	Signed          []byte // the signed header bytes
	VerificationKey []byte // DER SubjectPublicKeyInfo
	Signature       []byte
	ShareHashChain  map[int][]byte
	BlockHashTree   hashtree.Tree
	ShareData       []byte // SDMF: the one block; MDMF: salt+block per segment
	EncPrivKey      []byte

	// HeadersOnly marks a share read by ReadHeaders: everything Verify
	// checks, but no share data (and for SDMF no private key).
	HeadersOnly bool
}

// VersionKey identifies a version of a mutable file across shares.
type VersionKey struct {
	Seqnum   uint64
	RootHash string
}

// Key returns the share's version.
func (s *Share) Key() VersionKey { return VersionKey{s.Seqnum, string(s.RootHash)} }

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrCorrupt)
}

// region returns b[from:to] after checking the bounds.
func region(b []byte, name string, from, to uint64) ([]byte, error) {
	if from > to || to > uint64(len(b)) {
		return nil, corrupt("%s region [%d, %d) is outside the %d-byte share", name, from, to, len(b))
	}
	return b[from:to], nil
}

// ParseShare parses share number num from its bytes.
func ParseShare(num int, b []byte) (*Share, error) {
	if len(b) < 1 {
		return nil, corrupt("empty share")
	}
	s := &Share{Num: num, Version: int(b[0])}
	switch s.Version {
	case VersionSDMF:
		return s, s.parseSDMF(b)
	case VersionMDMF:
		return s, s.parseMDMF(b)
	}
	return nil, corrupt("unknown mutable share version %d", b[0])
}

func (s *Share) parseCommon(b []byte, withIV bool) int {
	s.Seqnum = binary.BigEndian.Uint64(b[1:])
	s.RootHash = b[9:41]
	p := 41
	if withIV {
		s.IV = b[p : p+saltSize]
		p += saltSize
	}
	s.Needed, s.Total = int(b[p]), int(b[p+1])
	s.SegmentSize = binary.BigEndian.Uint64(b[p+2:])
	s.DataLength = binary.BigEndian.Uint64(b[p+10:])
	return p + 18
}

func (s *Share) checkParams() error {
	if s.Needed < 1 || s.Total < s.Needed {
		return corrupt("encoding %d-of-%d", s.Needed, s.Total)
	}
	if s.SegmentSize%uint64(s.Needed) != 0 || (s.DataLength > 0 && s.SegmentSize == 0) || s.DataLength > maxShareDataSize*uint64(s.Needed) {
		return corrupt("segment size %d for %d bytes, k=%d", s.SegmentSize, s.DataLength, s.Needed)
	}
	if s.Num < 0 || s.Num >= s.Total {
		return corrupt("share number %d of %d", s.Num, s.Total)
	}
	return nil
}

func (s *Share) parseSDMF(b []byte) error { return s.parseSDMFFrom(b, false) }

// parseSDMFFrom parses an SDMF share; with headersOnly b need only reach
// the share data.
func (s *Share) parseSDMFFrom(b []byte, headersOnly bool) error {
	if len(b) < sdmfHeaderLen {
		return corrupt("SDMF header needs %d bytes, got %d", sdmfHeaderLen, len(b))
	}
	p := s.parseCommon(b, true)
	s.Signed = b[:sdmfSignedLen]
	sig := uint64(binary.BigEndian.Uint32(b[p:]))
	chain := uint64(binary.BigEndian.Uint32(b[p+4:]))
	bht := uint64(binary.BigEndian.Uint32(b[p+8:]))
	data := uint64(binary.BigEndian.Uint32(b[p+12:]))
	priv := binary.BigEndian.Uint64(b[p+16:])
	eof := binary.BigEndian.Uint64(b[p+24:])
	if err := s.checkParams(); err != nil {
		return err
	}
	var err error
	if s.VerificationKey, err = region(b, "verification key", sdmfHeaderLen, sig); err != nil {
		return err
	}
	if s.Signature, err = region(b, "signature", sig, chain); err != nil {
		return err
	}
	chainBytes, err := region(b, "share hash chain", chain, bht)
	if err != nil {
		return err
	}
	bhtBytes, err := region(b, "block hash tree", bht, data)
	if err != nil {
		return err
	}
	if headersOnly {
		if data > priv || priv > eof {
			return corrupt("share data [%d, %d) and private key [%d, %d) are out of order", data, priv, priv, eof)
		}
		s.HeadersOnly = true
		return s.parseTrees(chainBytes, bhtBytes, 1)
	}
	if s.ShareData, err = region(b, "share data", data, priv); err != nil {
		return err
	}
	if s.EncPrivKey, err = region(b, "private key", priv, eof); err != nil {
		return err
	}
	return s.parseTrees(chainBytes, bhtBytes, 1)
}

func (s *Share) parseMDMF(b []byte) error { return s.parseMDMFFrom(b, nil) }

// parseMDMFFrom parses an MDMF share; with bht (the block hash tree, read
// apart) b need only reach the share data.
func (s *Share) parseMDMFFrom(b []byte, bht []byte) error {
	if len(b) < mdmfHeaderLen {
		return corrupt("MDMF header needs %d bytes, got %d", mdmfHeaderLen, len(b))
	}
	p := s.parseCommon(b, false)
	s.Signed = b[:mdmfSignedLen]
	var o [8]uint64
	for i := range o {
		o[i] = binary.BigEndian.Uint64(b[p+8*i:])
	}
	privOff, chainOff, sigOff, vkOff, vkEnd, dataOff, bhtOff, eof := o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]
	if err := s.checkParams(); err != nil {
		return err
	}
	var err error
	if s.EncPrivKey, err = region(b, "private key", privOff, chainOff); err != nil {
		return err
	}
	chainBytes, err := region(b, "share hash chain", chainOff, sigOff)
	if err != nil {
		return err
	}
	if s.Signature, err = region(b, "signature", sigOff, vkOff); err != nil {
		return err
	}
	if s.VerificationKey, err = region(b, "verification key", vkOff, vkEnd); err != nil {
		return err
	}
	if bht != nil {
		if vkEnd > dataOff || dataOff > bhtOff || bhtOff > eof || uint64(len(bht)) != eof-bhtOff {
			return corrupt("block hash tree [%d, %d) after share data at %d: %d bytes read", bhtOff, eof, dataOff, len(bht))
		}
		s.HeadersOnly = true
		return s.parseTrees(chainBytes, bht, s.NumSegments())
	}
	if s.ShareData, err = region(b, "share data", dataOff, bhtOff); err != nil {
		return err
	}
	bhtBytes, err := region(b, "block hash tree", bhtOff, eof)
	if err != nil {
		return err
	}
	return s.parseTrees(chainBytes, bhtBytes, s.NumSegments())
}

// parseTrees reads the share hash chain (whole 2-byte index, 32-byte hash
// entries) and the block hash tree over nsegs leaves, which must fill its
// region exactly.
func (s *Share) parseTrees(chain, bht []byte, nsegs int) error {
	const entry = 2 + hashtree.HashSize
	if len(chain)%entry != 0 {
		return corrupt("share hash chain is %d bytes, not a multiple of %d", len(chain), entry)
	}
	s.ShareHashChain = map[int][]byte{}
	for i := 0; i+entry <= len(chain); i += entry {
		node := int(binary.BigEndian.Uint16(chain[i:]))
		h := chain[i+2 : i+entry]
		if _, dup := s.ShareHashChain[node]; dup {
			return corrupt("share hash chain repeats node %d", node)
		}
		s.ShareHashChain[node] = h
	}
	nodes := hashtree.Size(nsegs)
	if len(bht) != nodes*hashtree.HashSize {
		return corrupt("block hash tree has %d bytes, a tree over %d segments has %d", len(bht), nsegs, nodes*hashtree.HashSize)
	}
	t, err := hashtree.Parse(bht, nodes)
	if err != nil {
		return corrupt("block hash tree: %v", err)
	}
	s.BlockHashTree = t
	return nil
}

// NumSegments is the number of segments of the file this share belongs to.
func (s *Share) NumSegments() int {
	if s.DataLength == 0 {
		return 1
	}
	if s.Version == VersionSDMF || s.SegmentSize == 0 {
		return 1
	}
	return int((s.DataLength + s.SegmentSize - 1) / s.SegmentSize)
}

// segment returns segment i's ciphertext length, padded length and block
// length.
func (s *Share) segment(i int) (plain, padded, block uint64) {
	k := uint64(s.Needed)
	seg := s.SegmentSize
	if s.Version == VersionSDMF {
		seg = s.DataLength
	}
	plain = seg
	if i == s.NumSegments()-1 {
		plain = s.DataLength - uint64(i)*s.SegmentSize
	}
	padded = plain
	if padded%k != 0 {
		padded += k - padded%k
	}
	return plain, padded, padded / k
}

// block returns segment i's salt and block from the share data.
func (s *Share) block(i int) (salt, blk []byte, err error) {
	if s.Version == VersionSDMF {
		_, _, bl := s.segment(0)
		if uint64(len(s.ShareData)) != bl {
			return nil, nil, corrupt("SDMF share data is %d bytes, want %d", len(s.ShareData), bl)
		}
		return s.IV, s.ShareData, nil
	}
	off := uint64(i) * (saltSize + s.SegmentSize/uint64(s.Needed))
	_, _, bl := s.segment(i)
	end := off + saltSize + bl
	if end > uint64(len(s.ShareData)) {
		return nil, nil, corrupt("segment %d lies past the share data", i)
	}
	return s.ShareData[off : off+saltSize], s.ShareData[off+saltSize : end], nil
}
