package shares

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/lafs/lafs/pkg/storage"
)

// immutableShare is an immutable share container (Tahoe's
// storage/immutable.py format): a 12-byte header, the data, then the lease
// records.
type immutableShare struct {
	f         File
	w         io.WriterAt // nil when read-only
	version   uint32
	maxSize   int64 // allocated size while writing; -1 when opened for reading
	dataLen   int64
	leaseOff  int64
	numLeases uint32
}

// newImmutable writes the header of a new container for a share of
// maxSize bytes into an empty f.
func newImmutable(f file, maxSize int64) (*immutableShare, error) {
	hdr := make([]byte, immutableHeaderSize)
	binary.BigEndian.PutUint32(hdr[0:], immutableSchemaLatest)
	binary.BigEndian.PutUint32(hdr[4:], uint32(min(maxSize, math.MaxUint32)))
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("write container header: %w", err)
	}
	return &immutableShare{f: f, w: f, version: immutableSchemaLatest, maxSize: maxSize, dataLen: maxSize, leaseOff: immutableHeaderSize + maxSize}, nil
}

// parseImmutable reads the header of an existing container; the result is
// writable when f is.
func parseImmutable(f File) (*immutableShare, error) {
	hdr := make([]byte, immutableHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read container header: %w: %w", err, ErrUnknownContainer)
	}
	v := binary.BigEndian.Uint32(hdr)
	if v != 1 && v != 2 {
		return nil, fmt.Errorf("immutable container version %d: %w", v, ErrUnknownContainer)
	}
	n := binary.BigEndian.Uint32(hdr[8:])
	size := f.Size()
	leaseOff := size - int64(n)*immutableLeaseSize
	if leaseOff < immutableHeaderSize {
		return nil, fmt.Errorf("immutable container claims %d leases in %d bytes: %w", n, size, ErrUnknownContainer)
	}
	c := &immutableShare{f: f, version: v, maxSize: -1, dataLen: leaseOff - immutableHeaderSize, leaseOff: leaseOff, numLeases: n}
	if w, ok := f.(io.WriterAt); ok {
		c.w = w
	}
	return c, nil
}

// ReadData reads share data (not container bytes) at off; reads past the
// end of the data are short (io.EOF), as Tahoe's are.
func (c *immutableShare) ReadData(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= c.dataLen {
		return 0, io.EOF
	}
	short := false
	if rem := c.dataLen - off; int64(len(p)) > rem {
		p = p[:rem]
		short = true
	}
	n, err := c.f.ReadAt(p, immutableHeaderSize+off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == nil && short {
		err = io.EOF // io.ReaderAt: a short read says why
	}
	return n, err
}

// WriteData writes share data at off, refusing writes beyond the allocation.
func (c *immutableShare) WriteData(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > c.maxSize {
		return fmt.Errorf("write of %d bytes at %d beyond allocated size %d: %w", len(p), off, c.maxSize, storage.ErrTooLarge)
	}
	if _, err := c.w.WriteAt(p, immutableHeaderSize+off); err != nil {
		return fmt.Errorf("write share data: %w", err)
	}
	return nil
}

// Leases returns the container's lease records.
func (c *immutableShare) Leases() ([]Lease, error) {
	if c.numLeases == 0 {
		return nil, nil
	}
	b := make([]byte, int64(c.numLeases)*immutableLeaseSize)
	if _, err := c.f.ReadAt(b, c.leaseOff); err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	out := make([]Lease, c.numLeases)
	for i := range out {
		out[i] = parseImmutableLease(b[i*immutableLeaseSize:], c.version == 1)
	}
	return out, nil
}

func (c *immutableShare) writeLease(i uint32, l Lease) error {
	if _, err := c.w.WriteAt(l.immutableBytes(), c.leaseOff+int64(i)*immutableLeaseSize); err != nil {
		return fmt.Errorf("write lease: %w", err)
	}
	return nil
}

// AddLease appends a lease record (as stored) and bumps the lease count.
func (c *immutableShare) AddLease(l Lease) error {
	if err := c.writeLease(c.numLeases, l); err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], c.numLeases+1)
	if _, err := c.w.WriteAt(n[:], 8); err != nil {
		return fmt.Errorf("write lease count: %w", err)
	}
	c.numLeases++
	return nil
}

// AddOrRenewLease renews the lease whose renew secret matches (never moving
// its expiration backwards) or adds l. It reports whether it changed the
// container.
func (c *immutableShare) AddOrRenewLease(sec storage.LeaseSecrets, l Lease) (bool, error) {
	leases, err := c.Leases()
	if err != nil {
		return false, err
	}
	for i, old := range leases {
		if old.MatchesRenew(sec.Renew[:]) {
			if l.Expiration > old.Expiration {
				old.Expiration = l.Expiration
				return true, c.writeLease(uint32(i), old)
			}
			return false, nil
		}
	}
	return true, c.AddLease(forSchema(int(c.version), sec, l))
}
