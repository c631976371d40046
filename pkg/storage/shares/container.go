package storage

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/lafs/lafs/pkg/caps"
)

// Sizes of Tahoe-LAFS's on-disk share containers (storage/immutable.py,
// storage/mutable.py, storage/lease.py).
const (
	immutableHeaderSize = 12 // >LLL: version, data length (saturated), lease count
	immutableLeaseSize  = 72 // >L32s32sL: owner, renew, cancel, expiration

	mutableHeaderSize     = 100 // >32s20s32sQQ: magic, nodeid, write enabler, data length, extra lease offset
	mutableLeaseSize      = 92  // >LL32s32s20s: owner, expiration, renew, cancel, nodeid
	mutableDataOffset     = mutableHeaderSize + 4*mutableLeaseSize
	mutableDataLenOffset  = 84
	mutableExtraLeaseOff  = 92
	maxMutableShareSize   = 69105 * 1000 * 1000 * 1000 * 1000 // Tahoe's MAX_MUTABLE_SHARE_SIZE
	leaseRenewalSeconds   = 31 * 24 * 60 * 60
	immutableSchemaLatest = 2
)

// ErrUnknownContainer reports a file that is neither an immutable nor a
// mutable share container of a version this package knows.
var ErrUnknownContainer = errors.New("unknown share container format")

// Lease is one lease record as a share container holds it. In version-2
// containers (what Tahoe-LAFS 1.17 and later, and this package, write) the
// secrets are stored as BLAKE2b-256 hashes; in version-1 containers they are
// stored in clear, and Cleartext is set.
type Lease struct {
	Owner        uint32
	RenewSecret  [32]byte // hashed unless Cleartext
	CancelSecret [32]byte // hashed unless Cleartext
	Expiration   uint32   // POSIX seconds
	NodeID       [20]byte // mutable containers only: the server that accepted the lease
	Cleartext    bool
}

// NewLease builds the stored (hashed) form of a lease from the secrets a
// client presents.
func NewLease(owner uint32, renew, cancel []byte, expiration uint32, nodeID [20]byte) Lease {
	return Lease{
		Owner:        owner,
		RenewSecret:  blake2b256(renew),
		CancelSecret: blake2b256(cancel),
		Expiration:   expiration,
		NodeID:       nodeID,
	}
}

// MatchesRenew reports, in constant time, whether secret is this lease's
// renew secret.
func (l Lease) MatchesRenew(secret []byte) bool {
	return l.matches(l.RenewSecret, secret)
}

// MatchesCancel reports, in constant time, whether secret is this lease's
// cancel secret.
func (l Lease) MatchesCancel(secret []byte) bool {
	return l.matches(l.CancelSecret, secret)
}

func (l Lease) matches(stored [32]byte, secret []byte) bool {
	if l.Cleartext {
		return subtle.ConstantTimeCompare(stored[:], secret) == 1
	}
	h := blake2b256(secret)
	return subtle.ConstantTimeCompare(stored[:], h[:]) == 1
}

func (l Lease) immutableBytes() []byte {
	b := make([]byte, immutableLeaseSize)
	binary.BigEndian.PutUint32(b[0:], l.Owner)
	copy(b[4:], l.RenewSecret[:])
	copy(b[36:], l.CancelSecret[:])
	binary.BigEndian.PutUint32(b[68:], l.Expiration)
	return b
}

func parseImmutableLease(b []byte, cleartext bool) Lease {
	var l Lease
	l.Owner = binary.BigEndian.Uint32(b[0:])
	copy(l.RenewSecret[:], b[4:36])
	copy(l.CancelSecret[:], b[36:68])
	l.Expiration = binary.BigEndian.Uint32(b[68:])
	l.Cleartext = cleartext
	return l
}

func (l Lease) mutableBytes() []byte {
	b := make([]byte, mutableLeaseSize)
	binary.BigEndian.PutUint32(b[0:], l.Owner)
	binary.BigEndian.PutUint32(b[4:], l.Expiration)
	copy(b[8:], l.RenewSecret[:])
	copy(b[40:], l.CancelSecret[:])
	copy(b[72:], l.NodeID[:])
	return b
}

func parseMutableLease(b []byte, cleartext bool) Lease {
	var l Lease
	l.Owner = binary.BigEndian.Uint32(b[0:])
	l.Expiration = binary.BigEndian.Uint32(b[4:])
	copy(l.RenewSecret[:], b[8:40])
	copy(l.CancelSecret[:], b[40:72])
	copy(l.NodeID[:], b[72:92])
	l.Cleartext = cleartext
	return l
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

// ContainerKind says which container format a share file uses.
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
// share file.
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

// immutableFile is an open immutable share container.
type immutableFile struct {
	f         *os.File
	version   uint32
	maxSize   int64 // allocated size while writing; -1 when opened for reading
	dataLen   int64
	leaseOff  int64
	numLeases uint32
}

// createImmutable creates a new container for a share of maxSize bytes.
func createImmutable(path string, maxSize int64) (*immutableFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create share container: %w", err)
	}
	hdr := make([]byte, immutableHeaderSize)
	binary.BigEndian.PutUint32(hdr[0:], immutableSchemaLatest)
	binary.BigEndian.PutUint32(hdr[4:], uint32(min(maxSize, math.MaxUint32)))
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write container header: %w", err)
	}
	return &immutableFile{f: f, version: immutableSchemaLatest, maxSize: maxSize, dataLen: maxSize, leaseOff: immutableHeaderSize + maxSize}, nil
}

// openImmutable opens an existing immutable container read-write or read-only.
func openImmutable(path string, writable bool) (*immutableFile, error) {
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open share container: %w", err)
	}
	c, err := readImmutableHeader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func readImmutableHeader(f *os.File) (*immutableFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat share container: %w", err)
	}
	hdr := make([]byte, immutableHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read container header: %w", err)
	}
	v := binary.BigEndian.Uint32(hdr)
	if v != 1 && v != 2 {
		return nil, fmt.Errorf("immutable container version %d: %w", v, ErrUnknownContainer)
	}
	n := binary.BigEndian.Uint32(hdr[8:])
	leaseOff := st.Size() - int64(n)*immutableLeaseSize
	if leaseOff < immutableHeaderSize {
		return nil, fmt.Errorf("immutable container claims %d leases in %d bytes: %w", n, st.Size(), ErrUnknownContainer)
	}
	return &immutableFile{f: f, version: v, maxSize: -1, dataLen: leaseOff - immutableHeaderSize, leaseOff: leaseOff, numLeases: n}, nil
}

func (c *immutableFile) Close() error { return c.f.Close() }

// ReadData reads share data (not container bytes) at off; reads past the
// end of the data are short (io.EOF), as Tahoe's are.
func (c *immutableFile) ReadData(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= c.dataLen {
		return 0, io.EOF
	}
	if rem := c.dataLen - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.f.ReadAt(p, immutableHeaderSize+off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}

// WriteData writes share data at off, refusing writes beyond the allocation.
func (c *immutableFile) WriteData(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > c.maxSize {
		return fmt.Errorf("write of %d bytes at %d beyond allocated size %d: %w", len(p), off, c.maxSize, ErrTooLarge)
	}
	if _, err := c.f.WriteAt(p, immutableHeaderSize+off); err != nil {
		return fmt.Errorf("write share data: %w", err)
	}
	return nil
}

// Leases returns the container's lease records.
func (c *immutableFile) Leases() ([]Lease, error) {
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

func (c *immutableFile) writeLease(i uint32, l Lease) error {
	if _, err := c.f.WriteAt(l.immutableBytes(), c.leaseOff+int64(i)*immutableLeaseSize); err != nil {
		return fmt.Errorf("write lease: %w", err)
	}
	return nil
}

// forSchema turns a hashed lease into what a container of version v
// stores: version 1 keeps the secrets in clear.
func forSchema(v int, sec LeaseSecrets, l Lease) Lease {
	if v == 1 {
		l.RenewSecret, l.CancelSecret, l.Cleartext = sec.Renew, sec.Cancel, true
	}
	return l
}

// AddLease appends a lease record (as stored) and bumps the lease count.
func (c *immutableFile) AddLease(l Lease) error {
	if err := c.writeLease(c.numLeases, l); err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], c.numLeases+1)
	if _, err := c.f.WriteAt(n[:], 8); err != nil {
		return fmt.Errorf("write lease count: %w", err)
	}
	c.numLeases++
	return nil
}

// AddOrRenewLease renews the lease whose renew secret matches (never moving
// its expiration backwards) or adds l.
func (c *immutableFile) AddOrRenewLease(sec LeaseSecrets, l Lease) error {
	leases, err := c.Leases()
	if err != nil {
		return err
	}
	for i, old := range leases {
		if old.MatchesRenew(sec.Renew[:]) {
			if l.Expiration > old.Expiration {
				old.Expiration = l.Expiration
				return c.writeLease(uint32(i), old)
			}
			return nil
		}
	}
	return c.AddLease(forSchema(int(c.version), sec, l))
}

// mutableFile is an open mutable share container.
type mutableFile struct {
	f       *os.File
	version int
}

func createMutable(path string, nodeID [20]byte, writeEnabler [32]byte) (*mutableFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create mutable container: %w", err)
	}
	hdr := make([]byte, mutableDataOffset+4)
	copy(hdr, mutableMagicV2)
	copy(hdr[32:], nodeID[:])
	copy(hdr[52:], writeEnabler[:])
	binary.BigEndian.PutUint64(hdr[mutableExtraLeaseOff:], mutableDataOffset)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write mutable header: %w", err)
	}
	return &mutableFile{f: f, version: 2}, nil
}

func openMutable(path string, writable bool) (*mutableFile, error) {
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open mutable container: %w", err)
	}
	magic := make([]byte, 32)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, 32), magic); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: read magic: %w", path, err)
	}
	v := 0
	switch {
	case bytes.Equal(magic, mutableMagicV2):
		v = 2
	case bytes.Equal(magic, mutableMagicV1):
		v = 1
	default:
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrUnknownContainer)
	}
	return &mutableFile{f: f, version: v}, nil
}

func (c *mutableFile) Close() error { return c.f.Close() }

func (c *mutableFile) u64(off int64) (uint64, error) {
	var b [8]byte
	if _, err := c.f.ReadAt(b[:], off); err != nil {
		return 0, fmt.Errorf("read mutable header: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

func (c *mutableFile) putU64(off int64, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	if _, err := c.f.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("write mutable header: %w", err)
	}
	return nil
}

// DataLength is the length of the share data in the container.
func (c *mutableFile) DataLength() (int64, error) {
	v, err := c.u64(mutableDataLenOffset)
	if err != nil {
		return 0, err
	}
	// The data sits before any extra leases, so a length beyond the file is
	// a corrupt container, not data to be read.
	st, err := c.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("mutable container: %w", err)
	}
	if v > 1<<62 || int64(v) > st.Size()-mutableDataOffset {
		return 0, fmt.Errorf("mutable container claims %d data bytes in a %d-byte file: %w", v, st.Size(), ErrUnknownContainer)
	}
	return int64(v), nil
}

// WriteEnabler returns the stored write enabler and the node id that
// recorded it.
func (c *mutableFile) WriteEnabler() (we [32]byte, nodeID [20]byte, err error) {
	b := make([]byte, mutableHeaderSize)
	if _, err = c.f.ReadAt(b, 0); err != nil {
		return we, nodeID, fmt.Errorf("read mutable header: %w", err)
	}
	copy(nodeID[:], b[32:52])
	copy(we[:], b[52:84])
	return we, nodeID, nil
}

// ReadData reads share data, clipped to the data length.
func (c *mutableFile) ReadData(off, length int64) ([]byte, error) {
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
	if st, err := c.f.Stat(); err != nil || mutableDataOffset+off+length > st.Size() {
		return nil, fmt.Errorf("mutable container data length %d runs past its end: %w", dl, ErrUnknownContainer)
	}
	b := make([]byte, length)
	if _, err := c.f.ReadAt(b, mutableDataOffset+off); err != nil {
		return nil, fmt.Errorf("read mutable data: %w", err)
	}
	return b, nil
}

func (c *mutableFile) numExtraLeases() (extraOff int64, n uint32, err error) {
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
	if st, err := c.f.Stat(); err != nil || int64(o)+4+int64(n)*mutableLeaseSize > st.Size() {
		return 0, 0, fmt.Errorf("mutable container claims %d extra leases past its end: %w", n, ErrUnknownContainer)
	}
	return int64(o), n, nil
}

// writeZeros writes n zero bytes at off, 64 KiB at a time.
func writeZeros(f *os.File, off, n int64) error {
	zeros := make([]byte, min(n, 64<<10))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// growContainer moves the extra-lease block so data up to newSize fits.
func (c *mutableFile) growContainer(newSize int64) error {
	if newSize > maxMutableShareSize {
		return fmt.Errorf("mutable share of %d bytes: %w", newSize, ErrTooLarge)
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
	if err := writeZeros(c.f, oldOff, size); err != nil {
		return fmt.Errorf("clear extra leases: %w", err)
	}
	if _, err := c.f.WriteAt(block, newOff); err != nil {
		return fmt.Errorf("move extra leases: %w", err)
	}
	return c.putU64(mutableExtraLeaseOff, uint64(newOff))
}

// WriteData writes p at off, growing the container and zero-filling any
// hole, as Tahoe's MutableShareFile does.
func (c *mutableFile) WriteData(p []byte, off int64) error {
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
		if mutableDataOffset+end > int64(extraOff) {
			if err := c.growContainer(end); err != nil {
				return err
			}
		}
		if off > dl {
			if err := writeZeros(c.f, mutableDataOffset+dl, off-dl); err != nil {
				return fmt.Errorf("zero-fill mutable hole: %w", err)
			}
		}
		if err := c.putU64(mutableDataLenOffset, uint64(end)); err != nil {
			return err
		}
	}
	if _, err := c.f.WriteAt(p, mutableDataOffset+off); err != nil {
		return fmt.Errorf("write mutable data: %w", err)
	}
	return nil
}

// Truncate shortens the data length to n if it is longer (Tahoe never
// shrinks the container itself).
func (c *mutableFile) Truncate(n int64) error {
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	if n < dl {
		return c.putU64(mutableDataLenOffset, uint64(n))
	}
	return nil
}

func (c *mutableFile) leaseSlotOffset(i int, extraOff int64) int64 {
	if i < 4 {
		return mutableHeaderSize + int64(i)*mutableLeaseSize
	}
	return extraOff + 4 + int64(i-4)*mutableLeaseSize
}

// Leases returns the occupied lease slots (owner 0 means empty).
func (c *mutableFile) Leases() ([]Lease, []int, error) {
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
func (c *mutableFile) AddOrRenewLease(sec LeaseSecrets, l Lease) error {
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
				_, err := c.f.WriteAt(old.mutableBytes(), c.leaseSlotOffset(slots[i], extraOff))
				return wrapErr("renew lease", err)
			}
			return nil
		}
	}
	return c.AddLease(forSchema(c.version, sec, l))
}

// AddLease puts l (as stored) in the first empty lease slot, adding an
// extra slot when the four in the header are taken.
func (c *mutableFile) AddLease(l Lease) error {
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
		if _, err := c.f.WriteAt(cnt[:], extraOff); err != nil {
			return fmt.Errorf("write extra lease count: %w", err)
		}
	}
	_, err = c.f.WriteAt(l.mutableBytes(), c.leaseSlotOffset(slot, extraOff))
	return wrapErr("add lease", err)
}

func wrapErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
