package shares

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
)

// Sizes of Tahoe-LAFS's share containers (storage/immutable.py,
// storage/mutable.py, storage/lease.py).
const (
	immutableHeaderSize = 12 // >LLL: version, data length (saturated), lease count
	immutableLeaseSize  = 72 // >L32s32sL: owner, renew, cancel, expiration

	mutableHeaderSize     = 100 // >32s20s32sQQ: magic, nodeid, write enabler, data length, extra lease offset
	mutableLeaseSize      = 92  // >LL32s32s20s: owner, expiration, renew, cancel, nodeid
	mutableDataOffset     = mutableHeaderSize + 4*mutableLeaseSize
	mutableDataLenOffset  = 84
	mutableExtraLeaseOff  = 92
	immutableSchemaLatest = 2
)

// MaxMutableShareSize is Tahoe's MAX_MUTABLE_SHARE_SIZE: the largest data a
// mutable share may hold.
const MaxMutableShareSize = 69105 * 1000 * 1000 * 1000 * 1000

const maxMutableShareSize = MaxMutableShareSize

// ErrUnknownContainer reports a container that is neither an immutable nor
// a mutable share container of a version this package knows.
var ErrUnknownContainer = errors.New("unknown share container format")

// File is what a container is read from: a backend.Reader or Writer.
type File interface {
	io.ReaderAt
	Size() int64
}

// file is what a container is written to.
type file interface {
	File
	io.WriterAt
}

// mutableMagic returns the 32-byte magic of mutable container version v.
func mutableMagic(v int) []byte {
	human := []byte(fmt.Sprintf("Tahoe mutable container v%d\n", v))
	if v == 1 {
		return append(human, 0x75, 0x09, 0x44, 0x03, 0x8e)
	}
	return append(human, caps.TaggedHash("allmydata_mutable_container_header", human, 5)...)
}

var (
	mutableMagicV1 = mutableMagic(1)
	mutableMagicV2 = mutableMagic(2)
)

// ContainerKind says which container format a share uses.
type ContainerKind int

// Container kinds.
const (
	KindUnknown ContainerKind = iota
	KindImmutable
	KindMutable
)

// String names the kind as Tahoe's dump-share does.
func (k ContainerKind) String() string {
	switch k {
	case KindImmutable:
		return "immutable"
	case KindMutable:
		return "mutable"
	}
	return "unknown"
}

// DetectContainer tells the container kind from the first 32 bytes of a
// share container.
func DetectContainer(header []byte) ContainerKind {
	if len(header) >= 32 && (bytes.Equal(header[:32], mutableMagicV2) || bytes.Equal(header[:32], mutableMagicV1)) {
		return KindMutable
	}
	if len(header) >= 4 {
		if v := binary.BigEndian.Uint32(header); v == 1 || v == 2 {
			return KindImmutable
		}
	}
	return KindUnknown
}

// detect reads the kind of the container in f.
func detect(f File) ContainerKind {
	hdr := make([]byte, 32)
	n, _ := f.ReadAt(hdr, 0)
	return DetectContainer(hdr[:n])
}

// ContainerInfo is what Inspect reads from a container.
type ContainerInfo struct {
	Kind ContainerKind
	// DataLength is the length of the share data.
	DataLength int64
	// Leases are the lease records the container carries.
	Leases []Lease
}

// Inspect reads the kind, data length and leases of a share container;
// ErrUnknownContainer for anything else.
func Inspect(f File) (ContainerInfo, error) {
	switch detect(f) {
	case KindImmutable:
		c, err := parseImmutable(f)
		if err != nil {
			return ContainerInfo{}, err
		}
		ls, err := c.Leases()
		return ContainerInfo{Kind: KindImmutable, DataLength: c.dataLen, Leases: ls}, err
	case KindMutable:
		c, err := parseMutable(f)
		if err != nil {
			return ContainerInfo{}, err
		}
		dl, err := c.DataLength()
		if err != nil {
			return ContainerInfo{}, err
		}
		ls, _, err := c.Leases()
		return ContainerInfo{Kind: KindMutable, DataLength: dl, Leases: ls}, err
	}
	return ContainerInfo{}, ErrUnknownContainer
}

// writeZeros writes n zero bytes at off, 64 KiB at a time.
func writeZeros(w io.WriterAt, off, n int64) error {
	zeros := make([]byte, min(n, 64<<10))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

func wrapErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
