package chk

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/client/hashtree"
	"github.com/lafs/lafs/pkg/internal/pyset"
)

// Header is the offsets table at the start of every share a client writes
// (Tahoe's immutable share layout, version 1 with 4-byte fields or version 2
// with 8-byte fields).
type Header struct {
	Version           int
	BlockSize         uint64
	DataSize          uint64
	Data              uint64
	PlaintextHashTree uint64 // unused region, zero-filled
	CrypttextHashTree uint64
	BlockHashes       uint64
	ShareHashes       uint64
	URIExtension      uint64
}

// Header sizes of the two layouts.
const (
	headerLenV1 = 0x24
	headerLenV2 = 0x44
	// MaxHeaderLen is enough bytes to parse either layout's header.
	MaxHeaderLen = headerLenV2
)

// FieldSize is the size of the header's offset fields and of the UEB length
// word: 4 (v1) or 8 (v2).
func (h Header) FieldSize() uint64 {
	if h.Version == 1 {
		return 4
	}
	return 8
}

// HeaderLen is the length of the offsets table.
func (h Header) HeaderLen() int {
	if h.Version == 1 {
		return headerLenV1
	}
	return headerLenV2
}

// newHeader lays a share out: blocks, the (unused) plaintext hash tree, the
// crypttext hash tree, the block hash tree, the share hash chain, then the
// URI extension block. Version 1 unless a value needs more than 32 bits.
func newHeader(l Layout) Header {
	h := buildHeader(l, 1)
	if h.BlockSize >= 1<<32 || h.DataSize >= 1<<32 || h.URIExtension >= 1<<32 {
		h = buildHeader(l, 2)
	}
	return h
}

func buildHeader(l Layout, version int) Header {
	treeBytes := uint64(l.TreeNodes) * hashtree.HashSize
	chainBytes := uint64(l.ShareHashNodes) * (2 + hashtree.HashSize)
	start := uint64(headerLenV1)
	if version == 2 {
		start = headerLenV2
	}
	h := Header{Version: version, BlockSize: uint64(l.BlockSize), DataSize: uint64(l.ShareDataSize), Data: start}
	h.PlaintextHashTree = h.Data + h.DataSize
	h.CrypttextHashTree = h.PlaintextHashTree + treeBytes
	h.BlockHashes = h.CrypttextHashTree + treeBytes
	h.ShareHashes = h.BlockHashes + treeBytes
	h.URIExtension = h.ShareHashes + chainBytes
	return h
}

// Bytes serialises the offsets table.
func (h Header) Bytes() []byte {
	vals := []uint64{h.BlockSize, h.DataSize, h.Data, h.PlaintextHashTree, h.CrypttextHashTree, h.BlockHashes, h.ShareHashes, h.URIExtension}
	b := make([]byte, 4, h.HeaderLen())
	binary.BigEndian.PutUint32(b, uint32(h.Version))
	for _, v := range vals {
		if h.Version == 1 {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		} else {
			b = binary.BigEndian.AppendUint64(b, v)
		}
	}
	return b
}

// AllocatedSize is the whole share's length given its UEB's length.
func (h Header) AllocatedSize(uebLen int) uint64 {
	return h.URIExtension + h.FieldSize() + uint64(uebLen)
}

// ErrCorrupt wraps every error about share contents that fail a check.
var ErrCorrupt = errors.New("corrupt share")

// ParseHeader reads an offsets table (at least MaxHeaderLen bytes, or the
// whole share when shorter) and checks that its regions are in order.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 4 {
		return Header{}, fmt.Errorf("share header is %d bytes: %w", len(b), ErrCorrupt)
	}
	var h Header
	h.Version = int(binary.BigEndian.Uint32(b))
	var vals [8]uint64
	switch h.Version {
	case 1:
		if len(b) < headerLenV1 {
			return Header{}, fmt.Errorf("v1 share header is %d bytes: %w", len(b), ErrCorrupt)
		}
		for i := range vals {
			vals[i] = uint64(binary.BigEndian.Uint32(b[4+4*i:]))
		}
	case 2:
		if len(b) < headerLenV2 {
			return Header{}, fmt.Errorf("v2 share header is %d bytes: %w", len(b), ErrCorrupt)
		}
		for i := range vals {
			vals[i] = binary.BigEndian.Uint64(b[4+8*i:])
		}
	default:
		return Header{}, fmt.Errorf("share layout version %d: %w", h.Version, ErrCorrupt)
	}
	h.BlockSize, h.DataSize, h.Data, h.PlaintextHashTree = vals[0], vals[1], vals[2], vals[3]
	h.CrypttextHashTree, h.BlockHashes, h.ShareHashes, h.URIExtension = vals[4], vals[5], vals[6], vals[7]
	if h.Data < uint64(h.HeaderLen()) || h.PlaintextHashTree < h.Data || h.CrypttextHashTree < h.PlaintextHashTree ||
		h.BlockHashes < h.CrypttextHashTree || h.ShareHashes < h.BlockHashes || h.URIExtension < h.ShareHashes ||
		h.URIExtension > 1<<62 || h.DataSize > h.PlaintextHashTree-h.Data {
		return Header{}, fmt.Errorf("share offsets out of order: %w", ErrCorrupt)
	}
	return h, nil
}

// checkAgainst verifies a parsed header is the one the layout implies
// (either version is accepted, as Tahoe's reader does).
func (h Header) checkAgainst(l Layout) error {
	if h != buildHeader(l, h.Version) {
		return fmt.Errorf("share offsets do not match the file's layout: %w", ErrCorrupt)
	}
	return nil
}

// ChainOrder is the order in which Tahoe writes share shnum's hash chain:
// the iteration order of the CPython set it builds from the needed nodes
// (sibling of each node on the leaf's path up, then the leaf). Readers
// accept any order.
func ChainOrder(total, shnum int) []int {
	return pyset.Order(hashtree.Needed(total, shnum))
}

// chainBytes serialises a share's hash chain: (2-byte node index, hash).
func chainBytes(shareTree hashtree.Tree, total, shnum int) []byte {
	order := ChainOrder(total, shnum)
	out := make([]byte, 0, len(order)*(2+hashtree.HashSize))
	for _, node := range order {
		out = binary.BigEndian.AppendUint16(out, uint16(node))
		out = append(out, shareTree[node]...)
	}
	return out
}

// parseChain reads a stored hash chain into node index → hash.
func parseChain(b []byte) (map[int][]byte, error) {
	const entry = 2 + hashtree.HashSize
	if len(b)%entry != 0 {
		return nil, fmt.Errorf("share hash chain of %d bytes: %w", len(b), ErrCorrupt)
	}
	m := make(map[int][]byte, len(b)/entry)
	for i := 0; i < len(b); i += entry {
		node := int(binary.BigEndian.Uint16(b[i:]))
		if _, dup := m[node]; dup {
			return nil, fmt.Errorf("share hash chain repeats node %d: %w", node, ErrCorrupt)
		}
		m[node] = b[i+2 : i+entry]
	}
	return m, nil
}
