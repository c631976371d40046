package tahoecmd

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
)

// mutableShareLayout is what a mutable share's header says (SDMF's or
// MDMF's signed prefix and offset table), read without trusting any of
// it: the regions are only read, within the share data, when shown.
type mutableShareLayout struct {
	Version     byte // 0 SDMF, 1 MDMF
	Seqnum      uint64
	RootHash    []byte
	IV          []byte // SDMF only
	Needed      int
	Total       int
	SegmentSize uint64
	DataLength  uint64
	// Offsets of the regions within the share data, by Tahoe's names
	// (layout.py): signature, share_hash_chain, block_hash_tree,
	// share_data, enc_privkey, EOF and, for MDMF, verification_key and
	// verification_key_end.
	Offsets map[string]uint64
	// HeaderLen is where the SDMF verification key begins.
	HeaderLen uint64
}

// Header sizes (Tahoe's mutable/layout.py).
const (
	sdmfHeaderLen = 1 + 8 + 32 + 16 + 1 + 1 + 8 + 8 + 4*4 + 8*2 // >BQ32s16sBBQQ LLLLQQ
	mdmfHeaderLen = 1 + 8 + 32 + 1 + 1 + 8 + 8 + 8*8            // >BQ32sBBQQ QQQQQQQQ
)

// readMutableLayout parses the header of the share data in r (which
// holds dataLen bytes).
func readMutableLayout(r io.ReaderAt, dataLen int64) (*mutableShareLayout, error) {
	var first [1]byte
	if _, err := r.ReadAt(first[:], 0); err != nil {
		return nil, fmt.Errorf("reading the share's version: %w", err)
	}
	n := int64(sdmfHeaderLen)
	if first[0] == 1 {
		n = mdmfHeaderLen
	}
	if dataLen < n {
		return nil, fmt.Errorf("mutable share of %d bytes is shorter than its %d-byte header", dataLen, n)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("reading the mutable share header: %w", err)
	}
	l := &mutableShareLayout{Version: b[0], Seqnum: binary.BigEndian.Uint64(b[1:]), RootHash: b[9:41], Offsets: map[string]uint64{}}
	p := 41
	if l.Version == 0 {
		l.IV = b[p : p+16]
		p += 16
	}
	l.Needed, l.Total = int(b[p]), int(b[p+1])
	l.SegmentSize = binary.BigEndian.Uint64(b[p+2:])
	l.DataLength = binary.BigEndian.Uint64(b[p+10:])
	p += 18
	switch l.Version {
	case 0:
		for i, k := range []string{"signature", "share_hash_chain", "block_hash_tree", "share_data"} {
			l.Offsets[k] = uint64(binary.BigEndian.Uint32(b[p+4*i:]))
		}
		l.Offsets["enc_privkey"] = binary.BigEndian.Uint64(b[p+16:])
		l.Offsets["EOF"] = binary.BigEndian.Uint64(b[p+24:])
		l.HeaderLen = sdmfHeaderLen
	case 1:
		for i, k := range []string{"enc_privkey", "share_hash_chain", "signature", "verification_key",
			"verification_key_end", "share_data", "block_hash_tree", "EOF"} {
			l.Offsets[k] = binary.BigEndian.Uint64(b[p+8*i:])
		}
		l.HeaderLen = mdmfHeaderLen
	default:
		return nil, fmt.Errorf("unknown mutable share version %d", l.Version)
	}
	return l, nil
}

// region names a span of the share data.
func (l *mutableShareLayout) region(from, to string) (uint64, uint64) {
	a, b := l.HeaderLen, l.Offsets[to]
	if from != "" {
		a = l.Offsets[from]
	}
	return a, b
}

// span returns the length of a region, or an error when the header's
// offsets put it out of order or past the data.
func (l *mutableShareLayout) span(name, from, to string, dataLen int64) (uint64, error) {
	a, b := l.region(from, to)
	if a > b || b > uint64(dataLen) {
		return 0, fmt.Errorf("the %s region [%d, %d) is outside the %d-byte share", name, a, b, dataLen)
	}
	return b - a, nil
}

// maxKeyLen bounds the verification key and share hash chain dump-share
// reads (an RSA-2048 key is 294 bytes; a chain has at most 8 entries of
// 34 bytes for 256 shares).
const maxKeyLen = 64 << 10

// read returns a region's bytes (bounded by maxKeyLen).
func (l *mutableShareLayout) read(r io.ReaderAt, name, from, to string, dataLen int64) ([]byte, error) {
	n, err := l.span(name, from, to, dataLen)
	if err != nil {
		return nil, err
	}
	if n > maxKeyLen {
		return nil, fmt.Errorf("the %s region of %d bytes is implausibly large", name, n)
	}
	a, _ := l.region(from, to)
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(a)); err != nil {
		return nil, fmt.Errorf("reading the %s: %w", name, err)
	}
	return b, nil
}

// mutableContents is what dump-share shows of a mutable share's contents.
type mutableContents struct {
	*mutableShareLayout
	PubKey                      []byte
	EncPrivKeyLen, SignatureLen uint64
	ShareHashIDs                []int
	BlockHashNodes              uint64
}

// readMutableContents reads the layout and the regions dump-share
// describes.
func readMutableContents(r io.ReaderAt, dataLen int64) (*mutableContents, error) {
	l, err := readMutableLayout(r, dataLen)
	if err != nil {
		return nil, err
	}
	c := &mutableContents{mutableShareLayout: l}
	var chain []byte
	if l.Version == 0 {
		if c.PubKey, err = l.read(r, "verification key", "", "signature", dataLen); err != nil {
			return nil, err
		}
		if c.SignatureLen, err = l.span("signature", "signature", "share_hash_chain", dataLen); err != nil {
			return nil, err
		}
		if chain, err = l.read(r, "share hash chain", "share_hash_chain", "block_hash_tree", dataLen); err != nil {
			return nil, err
		}
		if c.BlockHashNodes, err = l.span("block hash tree", "block_hash_tree", "share_data", dataLen); err != nil {
			return nil, err
		}
		if _, err = l.span("share data", "share_data", "enc_privkey", dataLen); err != nil {
			return nil, err
		}
		if c.EncPrivKeyLen, err = l.span("private key", "enc_privkey", "EOF", dataLen); err != nil {
			return nil, err
		}
	} else {
		if c.EncPrivKeyLen, err = l.span("private key", "enc_privkey", "share_hash_chain", dataLen); err != nil {
			return nil, err
		}
		if chain, err = l.read(r, "share hash chain", "share_hash_chain", "signature", dataLen); err != nil {
			return nil, err
		}
		if c.SignatureLen, err = l.span("signature", "signature", "verification_key", dataLen); err != nil {
			return nil, err
		}
		if c.PubKey, err = l.read(r, "verification key", "verification_key", "verification_key_end", dataLen); err != nil {
			return nil, err
		}
		if c.BlockHashNodes, err = l.span("block hash tree", "block_hash_tree", "EOF", dataLen); err != nil {
			return nil, err
		}
	}
	c.BlockHashNodes /= 32
	const entry = 2 + 32
	if len(chain)%entry != 0 {
		return nil, fmt.Errorf("the share hash chain of %d bytes is not whole %d-byte entries", len(chain), entry)
	}
	seen := map[int]bool{}
	for i := 0; i < len(chain); i += entry {
		id := int(binary.BigEndian.Uint16(chain[i:]))
		if !seen[id] {
			seen[id] = true
			c.ShareHashIDs = append(c.ShareHashIDs, id)
		}
	}
	return c, nil
}

// verifyCap is the share's verifier cap, from the storage index its
// directory is named after and the key's fingerprint.
func (c *mutableContents) verifyCap(si []byte) string {
	kind := "SSK-Verifier"
	if c.Version == 1 {
		kind = "MDMF-Verifier"
	}
	return "URI:" + kind + ":" + caps.Base32Encode(si) + ":" + caps.Base32Encode(caps.PubkeyFingerprint(c.PubKey))
}

// shareHashList is the chain's node numbers as Tahoe lists them: SDMF's
// sorted as strings ("10" before "2"), MDMF's as numbers.
func (c *mutableContents) shareHashList() string {
	ids := append([]int(nil), c.ShareHashIDs...)
	strs := make([]string, len(ids))
	if c.Version == 0 {
		for i, id := range ids {
			strs[i] = strconv.Itoa(id)
		}
		sort.Strings(strs)
	} else {
		sort.Ints(ids)
		for i, id := range ids {
			strs[i] = strconv.Itoa(id)
		}
	}
	return strings.Join(strs, ",")
}
