package storage

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// LocalOptions configure a Local server.
type LocalOptions struct {
	// NodeID is the 20-byte id recorded in mutable containers beside the
	// write enabler and in mutable leases (Tahoe's tub id).
	NodeID [20]byte
	// ReservedSpace is kept free on the disk: allocations that would eat
	// into it are refused.
	ReservedSpace int64
	// ReadOnly refuses all new shares.
	ReadOnly bool
	// ApplicationVersion goes into the version message.
	ApplicationVersion string
	// Now is the clock for lease expiration; time.Now when nil.
	Now func() time.Time
	// Leases, when set, mirrors every lease into the lease database.
	Leases *LeaseDB
	// Logger receives debug records; discarded when nil.
	Logger *slog.Logger
}

// Local is the in-process storage server over a DiskStore: what the embedded
// local grid uses and what the GBS HTTP server serves. It is safe for
// concurrent use.
type Local struct {
	store *DiskStore
	opts  LocalOptions

	mu      sync.Mutex
	uploads map[uploadKey]*upload
	// allocated is the space promised to uploads in progress.
	allocated int64
	// bucketLocks serialise mutable operations per storage index.
	bucketLocks map[StorageIndex]*bucketLock
	ownsStore   bool
}

type uploadKey struct {
	si    StorageIndex
	shnum int
}

type bucketLock struct {
	mu   sync.Mutex
	refs int
}

// upload is one immutable share being written.
type upload struct {
	mu       sync.Mutex
	secret   []byte
	file     *immutableFile // open only between beginWrite and endWrite
	size     int64
	written  rangeSet
	incoming string
	final    string
	done     bool
	// active is when the upload was allocated or last written.
	active time.Time
}

var _ Server = (*Local)(nil)

// NewLocal serves the shares of store.
func NewLocal(store *DiskStore, opts LocalOptions) *Local {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Local{store: store, opts: opts, uploads: map[uploadKey]*upload{}, bucketLocks: map[StorageIndex]*bucketLock{}}
}

// OpenLocal opens the share store at dir and serves it; Close releases
// both. This is the embedded local grid's entry point.
func OpenLocal(dir string, opts LocalOptions) (*Local, error) {
	store, err := OpenDiskStore(dir)
	if err != nil {
		return nil, err
	}
	l := NewLocal(store, opts)
	l.ownsStore = true
	return l, nil
}

// Store is the underlying share store.
func (l *Local) Store() *DiskStore { return l.store }

// Close aborts every upload in progress (and closes the store when
// OpenLocal opened it).
func (l *Local) Close() error {
	l.mu.Lock()
	ups := l.uploads
	l.uploads = map[uploadKey]*upload{}
	l.allocated = 0
	l.mu.Unlock()
	var errs []error
	for _, u := range ups {
		u.mu.Lock()
		if !u.done {
			u.done = true
			errs = append(errs, u.release(), os.Remove(u.incoming))
		}
		u.mu.Unlock()
	}
	if l.ownsStore {
		errs = append(errs, l.store.Close())
	}
	return errors.Join(errs...)
}

func (l *Local) expiration() uint32 {
	return uint32(l.opts.Now().Unix() + leaseRenewalSeconds)
}

// availableSpace is what new shares may still use.
func (l *Local) availableSpace() int64 {
	if l.opts.ReadOnly {
		return 0
	}
	return l.availableSpaceMutable()
}

// availableSpaceMutable is the space mutable writes may use: read-only
// servers still accept them, as Tahoe's do.
func (l *Local) availableSpaceMutable() int64 {
	free, err := l.store.FreeSpace()
	if err != nil {
		return 0
	}
	l.mu.Lock()
	alloc := l.allocated
	l.mu.Unlock()
	return max(0, free-l.opts.ReservedSpace-alloc)
}

// Version implements Server.
func (l *Local) Version(ctx context.Context) (Version, error) {
	if err := ctx.Err(); err != nil {
		return Version{}, err
	}
	free := uint64(l.availableSpace())
	return Version{
		MaximumImmutableShareSize: free,
		MaximumMutableShareSize:   maxMutableShareSize,
		AvailableSpace:            free,
		ApplicationVersion:        []byte(l.opts.ApplicationVersion),
	}, nil
}

// AllocateBuckets implements Server.
func (l *Local) AllocateBuckets(ctx context.Context, si StorageIndex, lease LeaseSecrets, uploadSecret []byte, shares []int, allocatedSize uint64) (AllocateResult, error) {
	if err := ctx.Err(); err != nil {
		return AllocateResult{}, err
	}
	if allocatedSize > math.MaxInt64-immutableHeaderSize {
		return AllocateResult{}, fmt.Errorf("allocated size %d: %w", allocatedSize, ErrTooLarge)
	}
	for _, n := range shares {
		if n < 0 || n > 255 {
			return AllocateResult{}, fmt.Errorf("share number %d: %w", n, ErrBadRequest)
		}
	}
	size := int64(allocatedSize)
	newLease := NewLease(0, lease.Renew[:], lease.Cancel[:], l.expiration(), l.opts.NodeID)

	// Existing complete shares: renew (or add) the lease, as Tahoe does.
	have, err := l.store.Shares(si)
	if err != nil {
		return AllocateResult{}, err
	}
	for _, n := range have {
		if err := l.renewImmutable(ctx, si, n, lease, newLease); err != nil {
			return AllocateResult{}, err
		}
	}
	haveSet := map[int]bool{}
	for _, n := range have {
		haveSet[n] = true
	}
	// Like Tahoe, report every share already held, requested or not: the
	// uploader counts them towards happiness.
	res := AllocateResult{AlreadyHave: append([]int{}, have...), Allocated: []int{}}
	free := l.availableSpace()
	want := dedupe(shares)
	for _, n := range want {
		if haveSet[n] {
			continue
		}
		key := uploadKey{si, n}
		l.mu.Lock()
		u, inProgress := l.uploads[key]
		l.mu.Unlock()
		if inProgress {
			// A repeat with the same secret is answered as before; another
			// client's upload is left alone.
			if subtle.ConstantTimeCompare(u.secret, uploadSecret) == 1 && u.size == size {
				res.Allocated = append(res.Allocated, n)
			}
			continue
		}
		if l.opts.ReadOnly || free < size {
			continue
		}
		u, err := l.startUpload(si, n, uploadSecret, size, newLease)
		if errors.Is(err, fs.ErrExist) {
			continue // another process is uploading this share
		}
		if err != nil {
			return AllocateResult{}, err
		}
		l.mu.Lock()
		if _, err := os.Stat(u.final); err == nil {
			// Completed by a concurrent upload since we listed the bucket.
			l.mu.Unlock()
			os.Remove(u.incoming)
			res.AlreadyHave = append(res.AlreadyHave, n)
			continue
		}
		l.uploads[key] = u
		l.allocated += size
		l.mu.Unlock()
		free -= size
		res.Allocated = append(res.Allocated, n)
		l.opts.Logger.Debug("allocated share", "si", si.String(), "shnum", n, "size", size)
	}
	sort.Ints(res.AlreadyHave)
	return res, nil
}

func (l *Local) startUpload(si StorageIndex, n int, secret []byte, size int64, lease Lease) (*upload, error) {
	inc := l.store.IncomingPath(si, n)
	if err := os.MkdirAll(filepath.Dir(inc), 0o755); err != nil {
		return nil, fmt.Errorf("create incoming directory: %w", err)
	}
	f, err := createImmutable(inc, size)
	if err != nil {
		return nil, err
	}
	if err := f.AddLease(lease); err != nil {
		f.Close()
		os.Remove(inc)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(inc)
		return nil, fmt.Errorf("close new share: %w", err)
	}
	return &upload{
		secret:   bytes.Clone(secret),
		size:     size,
		incoming: inc,
		final:    l.store.SharePath(si, n),
		active:   l.opts.Now(),
	}, nil
}

func (l *Local) renewImmutable(ctx context.Context, si StorageIndex, n int, sec LeaseSecrets, lease Lease) error {
	path := l.store.SharePath(si, n)
	c, err := openImmutable(path, true)
	if err != nil {
		if errors.Is(err, ErrUnknownContainer) {
			return nil // a mutable share under the same SI: not ours to touch
		}
		return err
	}
	defer c.Close()
	if err := c.AddOrRenewLease(sec, lease); err != nil {
		return fmt.Errorf("lease on %s/%d: %w", si, n, err)
	}
	return l.recordLeases(ctx, si, n, KindImmutable, c.dataLen, c.Leases)
}

func (l *Local) lookupUpload(si StorageIndex, shnum int, secret []byte) (*upload, error) {
	l.mu.Lock()
	u, ok := l.uploads[uploadKey{si, shnum}]
	l.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("upload %s/%d: %w", si, shnum, ErrNotFound)
	}
	if subtle.ConstantTimeCompare(u.secret, secret) != 1 {
		return nil, fmt.Errorf("upload %s/%d: wrong upload secret: %w", si, shnum, ErrUnauthorized)
	}
	return u, nil
}

// WriteShareChunk implements Server.
func (l *Local) WriteShareChunk(ctx context.Context, si StorageIndex, shnum int, uploadSecret []byte, offset uint64, data []byte) (WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return WriteResult{}, err
	}
	u, err := l.beginWrite(si, shnum, uploadSecret)
	if err != nil {
		return WriteResult{}, err
	}
	defer l.endWrite(u)
	return l.writeLocked(ctx, si, shnum, u, offset, data)
}

// beginWrite locks an upload and opens its file for a run of writes; the
// file is closed again by endWrite, so idle uploads hold no descriptor.
func (l *Local) beginWrite(si StorageIndex, shnum int, secret []byte) (*upload, error) {
	u, err := l.lookupUpload(si, shnum, secret)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	if u.done {
		u.mu.Unlock()
		return nil, fmt.Errorf("upload %s/%d: %w", si, shnum, ErrNotFound)
	}
	if err := u.open(); err != nil {
		u.mu.Unlock()
		return nil, err
	}
	u.active = l.opts.Now()
	return u, nil
}

func (l *Local) endWrite(u *upload) {
	u.release()
	u.mu.Unlock()
}

func (u *upload) open() error {
	if u.file != nil {
		return nil
	}
	f, err := os.OpenFile(u.incoming, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open incoming share: %w", err)
	}
	u.file = &immutableFile{f: f, version: immutableSchemaLatest, maxSize: u.size, dataLen: u.size, leaseOff: immutableHeaderSize + u.size, numLeases: 1}
	return nil
}

func (u *upload) release() error {
	if u.file == nil {
		return nil
	}
	err := u.file.Close()
	u.file = nil
	return err
}

// writeLocked writes one chunk into an upload locked by beginWrite.
func (l *Local) writeLocked(ctx context.Context, si StorageIndex, shnum int, u *upload, offset uint64, data []byte) (WriteResult, error) {
	if u.done {
		return WriteResult{}, fmt.Errorf("upload %s/%d: %w", si, shnum, ErrNotFound)
	}
	if offset > uint64(u.size) || uint64(len(data)) > uint64(u.size)-offset {
		return WriteResult{}, fmt.Errorf("write %d bytes at %d of a %d-byte share: %w", len(data), offset, u.size, ErrTooLarge)
	}
	off := int64(offset)
	end := off + int64(len(data))
	// Bytes already written must match exactly.
	var buf []byte
	for _, r := range u.written.overlaps(off, end) {
		if cap(buf) < int(r.end-r.begin) {
			buf = make([]byte, r.end-r.begin)
		}
		b := buf[:r.end-r.begin]
		if _, err := u.file.ReadData(b, r.begin); err != nil && !errors.Is(err, io.EOF) {
			return WriteResult{}, fmt.Errorf("read back share data: %w", err)
		}
		if !bytes.Equal(b, data[r.begin-off:r.end-off]) {
			return WriteResult{}, fmt.Errorf("bytes %d-%d of %s/%d: %w", r.begin, r.end, si, shnum, ErrConflict)
		}
	}
	if err := u.file.WriteData(data, off); err != nil {
		return WriteResult{}, err
	}
	u.written.add(off, end)
	if u.written.covered() < u.size {
		return WriteResult{Required: u.written.missing(u.size)}, nil
	}
	// Complete: publish and forget the upload.
	u.done = true
	err := publish(u.file.f, u.incoming, u.final)
	cerr := u.release()
	l.mu.Lock()
	delete(l.uploads, uploadKey{si, shnum})
	l.allocated -= u.size
	l.mu.Unlock()
	if err != nil {
		os.Remove(u.incoming)
		return WriteResult{}, err
	}
	if cerr != nil {
		return WriteResult{}, fmt.Errorf("close share: %w", cerr)
	}
	if l.opts.Leases != nil {
		if c, err := openImmutable(u.final, false); err == nil {
			err = l.recordLeases(ctx, si, shnum, KindImmutable, c.dataLen, c.Leases)
			c.Close()
			if err != nil {
				return WriteResult{}, err
			}
		}
	}
	l.opts.Logger.Debug("share complete", "si", si.String(), "shnum", shnum)
	return WriteResult{Complete: true, Required: []Range{}}, nil
}

// AbortUpload implements Server.
func (l *Local) AbortUpload(ctx context.Context, si StorageIndex, shnum int, uploadSecret []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u, err := l.lookupUpload(si, shnum, uploadSecret)
	if errors.Is(err, ErrNotFound) {
		if _, serr := os.Stat(l.store.SharePath(si, shnum)); serr == nil {
			return fmt.Errorf("share %s/%d is complete: %w", si, shnum, ErrNotAllowed)
		}
	}
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return fmt.Errorf("share %s/%d is complete: %w", si, shnum, ErrNotAllowed)
	}
	u.done = true
	l.mu.Lock()
	delete(l.uploads, uploadKey{si, shnum})
	l.allocated -= u.size
	l.mu.Unlock()
	cerr := u.release()
	if err := os.Remove(u.incoming); err != nil {
		return fmt.Errorf("abort upload: %w", err)
	}
	_ = os.Remove(filepath.Dir(u.incoming))
	_ = os.Remove(filepath.Dir(filepath.Dir(u.incoming)))
	return wrapErr("abort upload", cerr)
}

// AbortIdleUploads aborts uploads not written for longer than idle (Tahoe
// gives up after 30 minutes), freeing their space; it returns how many.
func (l *Local) AbortIdleUploads(idle time.Duration) int {
	cutoff := l.opts.Now().Add(-idle)
	l.mu.Lock()
	var stale []uploadKey
	for k, u := range l.uploads {
		if u.mu.TryLock() {
			if !u.done && u.active.Before(cutoff) {
				stale = append(stale, k)
			}
			u.mu.Unlock()
		}
	}
	l.mu.Unlock()
	n := 0
	for _, k := range stale {
		l.mu.Lock()
		u := l.uploads[k]
		l.mu.Unlock()
		if u == nil {
			continue
		}
		if err := l.AbortUpload(context.Background(), k.si, k.shnum, u.secret); err == nil {
			n++
			l.opts.Logger.Debug("aborted idle upload", "si", k.si.String(), "shnum", k.shnum)
		}
	}
	return n
}

// ExpireShares deletes the shares whose every lease had expired by now,
// as the lease database records them (Tahoe's expire.mode = age), and
// returns how many it deleted. It needs LocalOptions.Leases.
func (l *Local) ExpireShares(ctx context.Context, now time.Time) (int, error) {
	if l.opts.Leases == nil {
		return 0, fmt.Errorf("expire shares: no lease database")
	}
	refs, err := l.opts.Leases.ExpiredShares(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		unlock, err := l.lockBucket(r.StorageIndex)
		if err != nil {
			return n, err
		}
		err = os.Remove(l.store.SharePath(r.StorageIndex, r.Share))
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = l.opts.Leases.DeleteShare(context.WithoutCancel(ctx), r.StorageIndex, r.Share)
			if err == nil {
				n++
			}
		}
		unlock()
		if err != nil {
			return n, fmt.Errorf("expire share %s/%d: %w", r.StorageIndex, r.Share, err)
		}
		l.opts.Logger.Debug("expired share", "si", r.StorageIndex.String(), "shnum", r.Share)
	}
	return n, nil
}

// ListShares implements Server.
func (l *Local) ListShares(ctx context.Context, si StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := l.store.Shares(si)
	if s == nil {
		s = []int{}
	}
	return s, err
}

// ImmutableShareLength is the length of the data of a complete immutable
// share.
func (l *Local) ImmutableShareLength(si StorageIndex, shnum int) (int64, error) {
	c, err := l.openImmutableShare(si, shnum)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.dataLen, nil
}

func (l *Local) openImmutableShare(si StorageIndex, shnum int) (*immutableFile, error) {
	c, err := openImmutable(l.store.SharePath(si, shnum), false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, ErrNotFound)
	}
	return c, err
}

// ReadShareChunk implements Server.
func (l *Local) ReadShareChunk(ctx context.Context, si StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := l.openImmutableShare(si, shnum)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if offset >= uint64(c.dataLen) {
		return []byte{}, nil
	}
	n := min(length, uint64(c.dataLen)-offset)
	b := make([]byte, n)
	if _, err := c.ReadData(b, int64(offset)); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read share %s/%d: %w", si, shnum, err)
	}
	return b, nil
}

// OpenShareReader opens a complete share for streaming reads of its data:
// an io.ReaderAt over the share data and its length. mutable selects the
// container kind.
func (l *Local) OpenShareReader(si StorageIndex, shnum int, mutable bool) (ShareReader, error) {
	if mutable {
		c, err := openMutable(l.store.SharePath(si, shnum), false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("share %s/%d: %w", si, shnum, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		dl, err := c.DataLength()
		if err != nil {
			c.Close()
			return nil, err
		}
		return &mutableReader{c: c, n: dl}, nil
	}
	c, err := l.openImmutableShare(si, shnum)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ShareReader reads the data of one share.
type ShareReader interface {
	// ReadData reads share data at off; short past the end (io.EOF).
	ReadData(p []byte, off int64) (int, error)
	// Len is the length of the share data.
	Len() int64
	Close() error
}

// Len implements ShareReader.
func (c *immutableFile) Len() int64 { return c.dataLen }

type mutableReader struct {
	c *mutableFile
	n int64
}

func (m *mutableReader) Len() int64   { return m.n }
func (m *mutableReader) Close() error { return m.c.Close() }
func (m *mutableReader) ReadData(p []byte, off int64) (int, error) {
	if off >= m.n {
		return 0, io.EOF
	}
	if int64(len(p)) > m.n-off {
		p = p[:m.n-off]
	}
	n, err := m.c.f.ReadAt(p, mutableDataOffset+off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}

// AdviseCorruptShare implements Server.
func (l *Local) AdviseCorruptShare(ctx context.Context, si StorageIndex, shnum int, reason string) error {
	return l.adviseCorrupt(ctx, "immutable", si, shnum, reason)
}

// AdviseCorruptMutableShare implements Server.
func (l *Local) AdviseCorruptMutableShare(ctx context.Context, si StorageIndex, shnum int, reason string) error {
	return l.adviseCorrupt(ctx, "mutable", si, shnum, reason)
}

func (l *Local) adviseCorrupt(ctx context.Context, kind string, si StorageIndex, shnum int, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := os.Stat(l.store.SharePath(si, shnum)); err != nil {
		return fmt.Errorf("share %s/%d: %w", si, shnum, ErrNotFound)
	}
	dir := filepath.Join(l.store.Dir(), "corruption-advisories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("corruption advisory: %w", err)
	}
	now := l.opts.Now().UTC()
	name := fmt.Sprintf("%s--%s-%d", strings.ReplaceAll(now.Format("2006-01-02T15:04:05.000000Z"), ":", ""), si, shnum)
	report := fmt.Sprintf("report: Share Corruption\ntype: %s\nstorage_index: %s\nshare_number: %d\n\n%s\n\n", kind, si, shnum, reason)
	if int64(len(report)) > l.availableSpace() {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(report), 0o644); err != nil {
		return fmt.Errorf("corruption advisory: %w", err)
	}
	return nil
}

func (l *Local) lockBucket(si StorageIndex) (func(), error) {
	l.mu.Lock()
	b := l.bucketLocks[si]
	if b == nil {
		b = &bucketLock{}
		l.bucketLocks[si] = b
	}
	b.refs++
	l.mu.Unlock()
	b.mu.Lock()
	release := func() {
		b.mu.Unlock()
		l.mu.Lock()
		b.refs--
		if b.refs == 0 {
			delete(l.bucketLocks, si)
		}
		l.mu.Unlock()
	}
	unlockDir, err := l.store.lockBucket(si)
	if err != nil {
		release()
		return nil, err
	}
	return func() {
		unlockDir()
		release()
	}, nil
}

// ReadTestWrite implements Server.
func (l *Local) ReadTestWrite(ctx context.Context, si StorageIndex, secrets MutableSecrets, req ReadTestWriteRequest) (ReadTestWriteResult, error) {
	if err := ctx.Err(); err != nil {
		return ReadTestWriteResult{}, err
	}
	for n := range req.TestWriteVectors {
		if n > 255 {
			return ReadTestWriteResult{}, fmt.Errorf("share number %d: %w", n, ErrBadRequest)
		}
	}
	unlock, err := l.lockBucket(si)
	if err != nil {
		return ReadTestWriteResult{}, err
	}
	defer unlock()

	nums, err := l.store.Shares(si)
	if err != nil {
		return ReadTestWriteResult{}, err
	}
	shares := map[int]*mutableFile{}
	defer func() {
		for _, c := range shares {
			c.Close()
		}
	}()
	for _, n := range nums {
		c, err := openMutable(l.store.SharePath(si, n), true)
		if err != nil {
			return ReadTestWriteResult{}, err
		}
		shares[n] = c
		we, _, err := c.WriteEnabler()
		if err != nil {
			return ReadTestWriteResult{}, err
		}
		if subtle.ConstantTimeCompare(we[:], secrets.WriteEnabler[:]) != 1 {
			return ReadTestWriteResult{}, fmt.Errorf("write enabler for %s: %w", si, ErrUnauthorized)
		}
	}
	// Tests.
	ok := true
	for n, tw := range req.TestWriteVectors {
		for _, t := range tw.Test {
			var got []byte
			if c := shares[int(n)]; c != nil {
				got, err = c.ReadData(clampOff(t.Offset), clampOff(t.Size))
				if err != nil {
					return ReadTestWriteResult{}, err
				}
			}
			if !bytes.Equal(got, t.Specimen) {
				ok = false
			}
		}
	}
	// Reads, before any write.
	res := ReadTestWriteResult{Success: ok, Data: map[uint64][][]byte{}}
	for _, n := range nums {
		var datav [][]byte
		for _, r := range req.ReadVector {
			b, err := shares[n].ReadData(clampOff(r.Offset), clampOff(r.Size))
			if err != nil {
				return ReadTestWriteResult{}, err
			}
			datav = append(datav, b)
		}
		if datav == nil {
			datav = [][]byte{}
		}
		res.Data[uint64(n)] = datav
	}
	if !ok {
		return res, nil
	}
	// Writes, in share order for determinism.
	keys := make([]uint64, 0, len(req.TestWriteVectors))
	for n := range req.TestWriteVectors {
		keys = append(keys, n)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	lease := NewLease(1, secrets.Lease.Renew[:], secrets.Lease.Cancel[:], l.expiration(), l.opts.NodeID)
	for _, n64 := range keys {
		n := int(n64)
		tw := req.TestWriteVectors[n64]
		if tw.NewLength != nil && *tw.NewLength == 0 {
			if c := shares[n]; c != nil {
				c.Close()
				delete(shares, n)
				if err := os.Remove(l.store.SharePath(si, n)); err != nil {
					return ReadTestWriteResult{}, fmt.Errorf("delete mutable share: %w", err)
				}
				if l.opts.Leases != nil {
					if err := l.opts.Leases.DeleteShare(context.WithoutCancel(ctx), si, n); err != nil {
						return ReadTestWriteResult{}, err
					}
				}
			}
			continue // an emptied bucket directory goes when the lock is released
		}
		if err := l.writeMutable(ctx, si, n, shares, secrets.WriteEnabler, tw, lease, secrets.Lease); err != nil {
			return ReadTestWriteResult{}, err
		}
	}
	return res, nil
}

func clampOff(v uint64) int64 {
	if v > math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(v)
}

func (l *Local) writeMutable(ctx context.Context, si StorageIndex, n int, shares map[int]*mutableFile, we [32]byte, tw TestWriteVectors, lease Lease, sec LeaseSecrets) error {
	apply := func(c *mutableFile) error {
		dl, err := c.DataLength()
		if err != nil {
			return err
		}
		// Growth must fit in the space left (Tahoe only caps the size).
		var grow uint64
		for _, w := range tw.Write {
			if w.Offset > maxMutableShareSize || uint64(len(w.Data)) > maxMutableShareSize-w.Offset {
				return fmt.Errorf("mutable write at %d: %w", w.Offset, ErrTooLarge)
			}
			if end := w.Offset + uint64(len(w.Data)); end > uint64(dl) {
				grow = max(grow, end-uint64(dl))
			}
		}
		if grow > 0 && grow > uint64(l.availableSpaceMutable()) {
			return fmt.Errorf("mutable share would grow by %d bytes: %w", grow, ErrTooLarge)
		}
		for _, w := range tw.Write {
			if err := c.WriteData(w.Data, int64(w.Offset)); err != nil {
				return err
			}
		}
		if tw.NewLength != nil {
			if err := c.Truncate(clampOff(*tw.NewLength)); err != nil {
				return err
			}
		}
		return c.AddOrRenewLease(sec, lease)
	}
	c := shares[n]
	if c == nil {
		// A new share is built under incoming/ and renamed into place.
		inc := l.store.IncomingPath(si, n)
		if err := os.MkdirAll(filepath.Dir(inc), 0o755); err != nil {
			return fmt.Errorf("create incoming directory: %w", err)
		}
		_ = os.Remove(inc)
		nc, err := createMutable(inc, l.opts.NodeID, we)
		if err != nil {
			return err
		}
		if err := apply(nc); err != nil {
			nc.Close()
			os.Remove(inc)
			return err
		}
		if err := publish(nc.f, inc, l.store.SharePath(si, n)); err != nil {
			nc.Close()
			os.Remove(inc)
			return err
		}
		shares[n] = nc
		c = nc
	} else {
		if err := apply(c); err != nil {
			return err
		}
		if err := c.f.Sync(); err != nil {
			return fmt.Errorf("sync mutable share: %w", err)
		}
	}
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	return l.recordLeases(ctx, si, n, KindMutable, dl, func() ([]Lease, error) {
		ls, _, err := c.Leases()
		return ls, err
	})
}

// ListMutableShares implements Server.
func (l *Local) ListMutableShares(ctx context.Context, si StorageIndex) ([]int, error) {
	return l.ListShares(ctx, si)
}

// ReadMutableShareChunk implements Server.
func (l *Local) ReadMutableShareChunk(ctx context.Context, si StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := openMutable(l.store.SharePath(si, shnum), false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ReadData(clampOff(offset), clampOff(length))
}

// AddOrRenewLease implements Server.
func (l *Local) AddOrRenewLease(ctx context.Context, si StorageIndex, lease LeaseSecrets) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nums, err := l.store.Shares(si)
	if err != nil {
		return err
	}
	if len(nums) == 0 {
		return fmt.Errorf("storage index %s: %w", si, ErrNotFound)
	}
	unlock, err := l.lockBucket(si)
	if err != nil {
		return err
	}
	defer unlock()
	exp := l.expiration()
	for _, n := range nums {
		kind, err := l.store.Kind(si, n)
		if err != nil {
			return err
		}
		switch kind {
		case KindImmutable:
			if err := l.renewImmutable(ctx, si, n, lease, NewLease(1, lease.Renew[:], lease.Cancel[:], exp, l.opts.NodeID)); err != nil {
				return err
			}
		case KindMutable:
			c, err := openMutable(l.store.SharePath(si, n), true)
			if err != nil {
				return err
			}
			err = c.AddOrRenewLease(lease, NewLease(1, lease.Renew[:], lease.Cancel[:], exp, l.opts.NodeID))
			if err == nil {
				var dl int64
				if dl, err = c.DataLength(); err == nil {
					err = l.recordLeases(ctx, si, n, KindMutable, dl, func() ([]Lease, error) {
						ls, _, err := c.Leases()
						return ls, err
					})
				}
			}
			c.Close()
			if err != nil {
				return fmt.Errorf("lease on %s/%d: %w", si, n, err)
			}
		}
	}
	return nil
}

func (l *Local) recordLeases(ctx context.Context, si StorageIndex, n int, kind ContainerKind, size int64, leases func() ([]Lease, error)) error {
	if l.opts.Leases == nil {
		return nil
	}
	ls, err := leases()
	if err != nil {
		return err
	}
	// The share files have already changed: record that even if the
	// caller has gone away.
	return l.opts.Leases.PutShare(context.WithoutCancel(ctx), si, n, kind, size, ls)
}

// dedupe returns the distinct values of s in ascending order.
func dedupe(s []int) []int { return slices.Compact(slices.Sorted(slices.Values(s))) }
