package shares

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/storage"
)

// mutableShare is a mutable share container (Tahoe's storage/mutable.py
// format): a 100-byte header, four lease slots, the data, then the extra
// leases.
type mutableShare struct {
	f       File
	w       io.WriterAt // nil when read-only
	version int
}

// newMutable writes the header of a new, empty container into f.
func newMutable(f file, nodeID [20]byte, writeEnabler [32]byte) (*mutableShare, error) {
	hdr := make([]byte, mutableDataOffset+4)
	copy(hdr, mutableMagicV2)
	copy(hdr[32:], nodeID[:])
	copy(hdr[52:], writeEnabler[:])
	binary.BigEndian.PutUint64(hdr[mutableExtraLeaseOff:], mutableDataOffset)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("write mutable header: %w", err)
	}
	return &mutableShare{f: f, w: f, version: 2}, nil
}

// parseMutable checks the magic of an existing container; the result is
// writable when f is.
func parseMutable(f File) (*mutableShare, error) {
	magic := make([]byte, 32)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, 32), magic); err != nil {
		return nil, fmt.Errorf("read mutable magic: %w: %w", err, ErrUnknownContainer)
	}
	c := &mutableShare{f: f}
	switch {
	case bytes.Equal(magic, mutableMagicV2):
		c.version = 2
	case bytes.Equal(magic, mutableMagicV1):
		c.version = 1
	default:
		return nil, fmt.Errorf("not a mutable container: %w", ErrUnknownContainer)
	}
	if w, ok := f.(io.WriterAt); ok {
		c.w = w
	}
	return c, nil
}

func (c *mutableShare) u64(off int64) (uint64, error) {
	var b [8]byte
	if _, err := c.f.ReadAt(b[:], off); err != nil {
		return 0, fmt.Errorf("read mutable header: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

func (c *mutableShare) putU64(off int64, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	if _, err := c.w.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("write mutable header: %w", err)
	}
	return nil
}

// DataLength is the length of the share data in the container.
func (c *mutableShare) DataLength() (int64, error) {
	v, err := c.u64(mutableDataLenOffset)
	if err != nil {
		return 0, err
	}
	// The data sits before any extra leases, so a length beyond the file is
	// a corrupt container, not data to be read.
	size := c.f.Size()
	if v > 1<<62 || int64(v) > size-mutableDataOffset {
		return 0, fmt.Errorf("mutable container claims %d data bytes in a %d-byte file: %w", v, size, ErrUnknownContainer)
	}
	return int64(v), nil
}

// WriteEnabler returns the stored write enabler and the node id that
// recorded it.
func (c *mutableShare) WriteEnabler() (we [32]byte, nodeID [20]byte, err error) {
	b := make([]byte, mutableHeaderSize)
	if _, err = c.f.ReadAt(b, 0); err != nil {
		return we, nodeID, fmt.Errorf("read mutable header: %w", err)
	}
	copy(nodeID[:], b[32:52])
	copy(we[:], b[52:84])
	return we, nodeID, nil
}

// ReadData reads share data, clipped to the data length.
func (c *mutableShare) ReadData(off, length int64) ([]byte, error) {
	dl, err := c.DataLength()
	if err != nil {
		return nil, err
	}
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("bad read vector %d+%d", off, length)
	}
	if off >= dl {
		return []byte{}, nil
	}
	length = min(length, dl-off)
	b := make([]byte, length)
	if _, err := c.f.ReadAt(b, mutableDataOffset+off); err != nil && !(err == io.EOF && int64(len(b)) == length) {
		return nil, fmt.Errorf("read mutable data: %w", err)
	}
	return b, nil
}

func (c *mutableShare) numExtraLeases() (extraOff int64, n uint32, err error) {
	o, err := c.u64(mutableExtraLeaseOff)
	if err != nil {
		return 0, 0, err
	}
	if o < mutableDataOffset || o > 1<<62 {
		return 0, 0, fmt.Errorf("mutable container extra-lease offset %d: %w", o, ErrUnknownContainer)
	}
	var b [4]byte
	if _, err := c.f.ReadAt(b[:], int64(o)); err != nil {
		return 0, 0, fmt.Errorf("read extra lease count: %w", err)
	}
	n = binary.BigEndian.Uint32(b[:])
	if int64(o)+4+int64(n)*mutableLeaseSize > c.f.Size() {
		return 0, 0, fmt.Errorf("mutable container claims %d extra leases past its end: %w", n, ErrUnknownContainer)
	}
	return int64(o), n, nil
}

// growContainer moves the extra-lease block so data up to newSize fits.
// The old block's place is zeroed (it becomes data or hole); anything
// between the old end of the file and the new block is left as a hole,
// which reads as zeros.
func (c *mutableShare) growContainer(newSize int64) error {
	if newSize > maxMutableShareSize {
		return fmt.Errorf("mutable share of %d bytes: %w", newSize, storage.ErrTooLarge)
	}
	oldOff, n, err := c.numExtraLeases()
	if err != nil {
		return err
	}
	newOff := mutableDataOffset + newSize
	if newOff < oldOff {
		return nil
	}
	size := 4 + int64(n)*mutableLeaseSize
	block := make([]byte, size)
	if _, err := c.f.ReadAt(block, oldOff); err != nil {
		return fmt.Errorf("read extra leases: %w", err)
	}
	if err := writeZeros(c.w, oldOff, min(size, newOff-oldOff)); err != nil {
		return fmt.Errorf("clear extra leases: %w", err)
	}
	if _, err := c.w.WriteAt(block, newOff); err != nil {
		return fmt.Errorf("move extra leases: %w", err)
	}
	return c.putU64(mutableExtraLeaseOff, uint64(newOff))
}

// WriteData writes p at off, growing the container. A hole between the old
// data length and off reads as zeros, as in Tahoe's MutableShareFile: the
// part of it inside the old container (data cut by an earlier truncation)
// is zeroed, the part beyond is left sparse.
func (c *mutableShare) WriteData(p []byte, off int64) error {
	if off < 0 {
		return fmt.Errorf("negative write offset %d", off)
	}
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	end := off + int64(len(p))
	if end >= dl {
		extraOff, err := c.u64(mutableExtraLeaseOff)
		if err != nil {
			return err
		}
		// Bytes of the container between the data and off that may hold
		// stale data: up to the old extra-lease block (growContainer zeroes
		// the block itself).
		if off > dl {
			stale := min(off, int64(extraOff)-mutableDataOffset) - dl
			if stale > 0 {
				if err := writeZeros(c.w, mutableDataOffset+dl, stale); err != nil {
					return fmt.Errorf("zero-fill mutable hole: %w", err)
				}
			}
		}
		if mutableDataOffset+end > int64(extraOff) {
			if err := c.growContainer(end); err != nil {
				return err
			}
		}
		if err := c.putU64(mutableDataLenOffset, uint64(end)); err != nil {
			return err
		}
	}
	if _, err := c.w.WriteAt(p, mutableDataOffset+off); err != nil {
		return fmt.Errorf("write mutable data: %w", err)
	}
	return nil
}

// Truncate shortens the data length to n if it is longer (Tahoe never
// shrinks the container itself).
func (c *mutableShare) Truncate(n int64) error {
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	if n < dl {
		return c.putU64(mutableDataLenOffset, uint64(n))
	}
	return nil
}

func (c *mutableShare) leaseSlotOffset(i int, extraOff int64) int64 {
	if i < 4 {
		return mutableHeaderSize + int64(i)*mutableLeaseSize
	}
	return extraOff + 4 + int64(i-4)*mutableLeaseSize
}

// Leases returns the occupied lease slots (owner 0 means empty).
func (c *mutableShare) Leases() ([]Lease, []int, error) {
	extraOff, n, err := c.numExtraLeases()
	if err != nil {
		return nil, nil, err
	}
	var out []Lease
	var slots []int
	b := make([]byte, mutableLeaseSize)
	for i := 0; i < 4+int(n); i++ {
		if _, err := c.f.ReadAt(b, c.leaseSlotOffset(i, extraOff)); err != nil {
			return nil, nil, fmt.Errorf("read lease %d: %w", i, err)
		}
		l := parseMutableLease(b, c.version == 1)
		if l.Owner == 0 {
			continue
		}
		out = append(out, l)
		slots = append(slots, i)
	}
	return out, slots, nil
}

// AddOrRenewLease renews the lease matching sec.Renew (never moving its
// expiration backwards) or adds l.
func (c *mutableShare) AddOrRenewLease(sec storage.LeaseSecrets, l Lease) error {
	leases, slots, err := c.Leases()
	if err != nil {
		return err
	}
	extraOff, _, err := c.numExtraLeases()
	if err != nil {
		return err
	}
	for i, old := range leases {
		if old.MatchesRenew(sec.Renew[:]) {
			if l.Expiration > old.Expiration {
				old.Expiration = l.Expiration
				_, err := c.w.WriteAt(old.mutableBytes(), c.leaseSlotOffset(slots[i], extraOff))
				return wrapErr("renew lease", err)
			}
			return nil
		}
	}
	return c.AddLease(forSchema(c.version, sec, l))
}

// AddLease puts l (as stored) in the first empty lease slot, adding an
// extra slot when the four in the header are taken.
func (c *mutableShare) AddLease(l Lease) error {
	_, slots, err := c.Leases()
	if err != nil {
		return err
	}
	extraOff, n, err := c.numExtraLeases()
	if err != nil {
		return err
	}
	used := make(map[int]bool, len(slots))
	for _, s := range slots {
		used[s] = true
	}
	total := 4 + int(n)
	slot := total
	for i := 0; i < total; i++ {
		if !used[i] {
			slot = i
			break
		}
	}
	if slot == total && slot >= 4 {
		var cnt [4]byte
		binary.BigEndian.PutUint32(cnt[:], n+1)
		if _, err := c.w.WriteAt(cnt[:], extraOff); err != nil {
			return fmt.Errorf("write extra lease count: %w", err)
		}
	}
	_, err = c.w.WriteAt(l.mutableBytes(), c.leaseSlotOffset(slot, extraOff))
	return wrapErr("add lease", err)
}
