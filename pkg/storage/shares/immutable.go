package shares

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// upload is one immutable share being written. Its container stays open
// (w) from allocation to completion or abort.
type upload struct {
	mu      sync.Mutex
	secret  []byte
	w       backend.Writer
	c       *immutableShare
	size    int64
	written rangeSet
	done    bool
	// active is when the upload was allocated or last written.
	active time.Time
}

// chunkBufSize is the piece size of streamed writes.
const chunkBufSize = 64 << 10

var chunkBufs = sync.Pool{New: func() any { b := make([]byte, chunkBufSize); return &b }}

// AllocateBuckets implements storage.Server.
func (s *Store) AllocateBuckets(ctx context.Context, si storage.StorageIndex, lease storage.LeaseSecrets, uploadSecret []byte, shares []int, allocatedSize uint64) (storage.AllocateResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.AllocateResult{}, err
	}
	if allocatedSize > math.MaxInt64-immutableHeaderSize-immutableLeaseSize {
		return storage.AllocateResult{}, fmt.Errorf("allocated size %d: %w", allocatedSize, storage.ErrTooLarge)
	}
	for _, n := range shares {
		if !backend.ValidShareNumber(n) {
			return storage.AllocateResult{}, fmt.Errorf("share number %d: %w", n, storage.ErrBadRequest)
		}
	}
	size := int64(allocatedSize)
	newLease := NewLease(0, lease.Renew[:], lease.Cancel[:], s.expiration(), s.opts.NodeID)

	// Existing complete shares: renew (or add) the lease, as Tahoe does.
	// Share numbers taken by mutable (or unreadable) containers are neither
	// held nor allocatable.
	all, have, err := s.listKind(ctx, si, KindImmutable)
	if err != nil {
		return storage.AllocateResult{}, err
	}
	if len(have) > 0 && s.opts.LeaseLog != nil {
		if err := s.logLease(ctx, si, false, newLease); err != nil {
			return storage.AllocateResult{}, err
		}
	} else if len(have) > 0 {
		unlock, err := s.lockBucket(ctx, si)
		if err != nil {
			return storage.AllocateResult{}, err
		}
		for _, n := range have {
			if err := s.renewImmutable(ctx, si, n, lease, newLease); err != nil {
				unlock()
				return storage.AllocateResult{}, err
			}
		}
		unlock()
	}
	taken := map[int]bool{}
	for _, n := range all {
		taken[n] = true
	}
	// Like Tahoe, report every share already held, requested or not: the
	// uploader counts them towards happiness.
	res := storage.AllocateResult{AlreadyHave: append([]int{}, have...), Allocated: []int{}}
	free := s.availableSpace(ctx)
	for _, n := range dedupe(shares) {
		if taken[n] {
			continue
		}
		key := uploadKey{si, n}
		s.mu.Lock()
		u, inProgress := s.uploads[key]
		s.mu.Unlock()
		if inProgress {
			// A repeat with the same secret is answered as before; another
			// client's upload is left alone.
			if subtle.ConstantTimeCompare(u.secret, uploadSecret) == 1 && u.size == size {
				res.Allocated = append(res.Allocated, n)
			}
			continue
		}
		s.mu.Lock()
		full := len(s.uploads) >= s.opts.MaxUploads
		s.mu.Unlock()
		if s.opts.ReadOnly || free < size || full {
			continue
		}
		u, err := s.startUpload(ctx, si, n, uploadSecret, size, newLease)
		if errors.Is(err, backend.ErrExist) {
			continue // another process is uploading this share
		}
		if err != nil {
			return storage.AllocateResult{}, err
		}
		if done, err := s.exists(ctx, si, n); err != nil || done {
			// Completed (or created) by another writer since we listed the
			// bucket.
			u.w.Close()
			if err != nil {
				return storage.AllocateResult{}, err
			}
			if s.isKind(ctx, si, n, KindImmutable) {
				res.AlreadyHave = append(res.AlreadyHave, n)
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			u.w.Close()
			return storage.AllocateResult{}, backend.ErrClosed
		}
		if _, raced := s.uploads[key]; raced {
			s.mu.Unlock()
			u.w.Close()
			continue
		}
		s.uploads[key] = u
		s.allocated += size
		s.mu.Unlock()
		free -= size
		res.Allocated = append(res.Allocated, n)
		s.opts.Logger.Debug("allocated share", "si", si.String(), "shnum", n, "size", size)
	}
	sort.Ints(res.AlreadyHave)
	return res, nil
}

func (s *Store) startUpload(ctx context.Context, si storage.StorageIndex, n int, secret []byte, size int64, lease Lease) (*upload, error) {
	w, err := s.b.Create(ctx, si, n, immutableHeaderSize+size+immutableLeaseSize)
	if err != nil {
		return nil, err
	}
	c, err := newImmutable(w, size)
	if err == nil {
		err = c.AddLease(lease)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	return &upload{secret: bytes.Clone(secret), w: w, c: c, size: size, active: s.opts.Now()}, nil
}

// renewImmutable renews or adds a lease on a complete immutable share;
// the caller holds the bucket lock. Other container kinds are left alone.
func (s *Store) renewImmutable(ctx context.Context, si storage.StorageIndex, n int, sec storage.LeaseSecrets, lease Lease) error {
	e, err := s.b.Edit(ctx, si, n)
	if errors.Is(err, backend.ErrNotExist) {
		return nil // removed since listed
	}
	if err != nil {
		return err
	}
	defer e.Close()
	c, err := parseImmutable(e)
	if err != nil {
		if errors.Is(err, ErrUnknownContainer) {
			return nil // a mutable share under the same SI: not ours to touch
		}
		return err
	}
	changed, err := c.AddOrRenewLease(sec, lease)
	if err == nil && changed {
		err = e.Commit(ctx)
	}
	if err != nil {
		return fmt.Errorf("lease on %s/%d: %w", si, n, err)
	}
	return s.recordLeases(ctx, si, n, KindImmutable, c.dataLen, c.Leases)
}

func (s *Store) lookupUpload(si storage.StorageIndex, shnum int, secret []byte) (*upload, error) {
	s.mu.Lock()
	u, ok := s.uploads[uploadKey{si, shnum}]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("upload %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	if subtle.ConstantTimeCompare(u.secret, secret) != 1 {
		return nil, fmt.Errorf("upload %s/%d: wrong upload secret: %w", si, shnum, storage.ErrUnauthorized)
	}
	return u, nil
}

// beginWrite finds and locks an upload for a run of writes.
func (s *Store) beginWrite(si storage.StorageIndex, shnum int, secret []byte) (*upload, error) {
	u, err := s.lookupUpload(si, shnum, secret)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	if u.done {
		u.mu.Unlock()
		return nil, fmt.Errorf("upload %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	u.active = s.opts.Now()
	return u, nil
}

// WriteShareChunk implements storage.Server.
func (s *Store) WriteShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, data []byte) (storage.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.WriteResult{}, err
	}
	u, err := s.beginWrite(si, shnum, uploadSecret)
	if err != nil {
		return storage.WriteResult{}, err
	}
	defer u.mu.Unlock()
	return s.writeLocked(ctx, si, shnum, u, offset, data)
}

// WriteShareChunkVec is WriteShareChunk of the concatenation of data,
// written piece by piece under one hold of the upload (no joining copy).
// The store keeps none of data after it returns.
func (s *Store) WriteShareChunkVec(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, data [][]byte) (storage.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.WriteResult{}, err
	}
	u, err := s.beginWrite(si, shnum, uploadSecret)
	if err != nil {
		return storage.WriteResult{}, err
	}
	defer u.mu.Unlock()
	var total uint64
	for _, b := range data {
		total += uint64(len(b))
	}
	if end := offset + total; end < offset || end > uint64(u.size) {
		return storage.WriteResult{}, fmt.Errorf("write %d bytes at %d of a %d-byte share: %w", total, offset, u.size, storage.ErrTooLarge)
	}
	var res storage.WriteResult
	off := offset
	for _, b := range data {
		if len(b) == 0 {
			continue
		}
		if res, err = s.writeLocked(ctx, si, shnum, u, off, b); err != nil {
			return res, err
		}
		off += uint64(len(b))
	}
	if off == offset {
		return s.writeLocked(ctx, si, shnum, u, offset, nil)
	}
	return res, nil
}

// WriteShareChunkFrom writes n bytes read from r at offset into an
// allocated share, streaming them in 64 KiB pieces (gbsserver.ChunkWriter).
// A range beyond the allocation is refused before anything is read; a
// body shorter than n is storage.ErrBadRequest (the pieces already
// written stay written, as separate chunks would).
func (s *Store) WriteShareChunkFrom(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, r io.Reader, n int64) (storage.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.WriteResult{}, err
	}
	if n < 0 {
		return storage.WriteResult{}, fmt.Errorf("negative length %d: %w", n, storage.ErrBadRequest)
	}
	u, err := s.beginWrite(si, shnum, uploadSecret)
	if err != nil {
		return storage.WriteResult{}, err
	}
	defer u.mu.Unlock()
	end := offset + uint64(n)
	if end < offset || end > uint64(u.size) {
		return storage.WriteResult{}, fmt.Errorf("bytes %d-%d beyond the allocated %d: %w", offset, end, u.size, storage.ErrTooLarge)
	}
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := *bp
	var res storage.WriteResult
	if n == 0 {
		return s.writeLocked(ctx, si, shnum, u, offset, nil)
	}
	for off := offset; off < end; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		k, err := io.ReadFull(r, buf[:min(uint64(len(buf)), end-off)])
		if k > 0 {
			var werr error
			if res, werr = s.writeLocked(ctx, si, shnum, u, off, buf[:k]); werr != nil {
				return res, werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("body shorter than its range: %w", storage.ErrBadRequest)
			}
			return res, err
		}
		off += uint64(k)
	}
	return res, nil
}

// writeLocked writes one chunk into an upload locked by beginWrite.
func (s *Store) writeLocked(ctx context.Context, si storage.StorageIndex, shnum int, u *upload, offset uint64, data []byte) (storage.WriteResult, error) {
	if u.done {
		return storage.WriteResult{}, fmt.Errorf("upload %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	if offset > uint64(u.size) || uint64(len(data)) > uint64(u.size)-offset {
		return storage.WriteResult{}, fmt.Errorf("write %d bytes at %d of a %d-byte share: %w", len(data), offset, u.size, storage.ErrTooLarge)
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
		if _, err := u.c.ReadData(b, r.begin); err != nil && !errors.Is(err, io.EOF) {
			return storage.WriteResult{}, fmt.Errorf("read back share data: %w", err)
		}
		if !bytes.Equal(b, data[r.begin-off:r.end-off]) {
			return storage.WriteResult{}, fmt.Errorf("bytes %d-%d of %s/%d: %w", r.begin, r.end, si, shnum, storage.ErrConflict)
		}
	}
	if err := u.c.WriteData(data, off); err != nil {
		return storage.WriteResult{}, err
	}
	u.written.add(off, end)
	if u.written.covered() < u.size {
		return storage.WriteResult{Required: u.written.missing(u.size)}, nil
	}
	// Complete: publish and forget the upload. The bytes are all here, so
	// a caller that has gone away does not stop the commit.
	err := u.w.Commit(context.WithoutCancel(ctx))
	if errors.Is(err, backend.ErrExist) {
		err = nil // completed meanwhile by another process sharing the backend
	}
	if err != nil && !errors.Is(err, backend.ErrClosed) {
		// The backend failed (an object store unreachable, say): the upload
		// stays, and the client's retry of its last write commits again.
		return storage.WriteResult{}, fmt.Errorf("publish share %s/%d: %w", si, shnum, err)
	}
	u.done = true
	var leases []Lease
	if err == nil {
		leases, err = u.c.Leases()
	}
	cerr := u.w.Close()
	s.mu.Lock()
	delete(s.uploads, uploadKey{si, shnum})
	s.allocated -= u.size
	s.mu.Unlock()
	if err != nil {
		return storage.WriteResult{}, err
	}
	if cerr != nil {
		return storage.WriteResult{}, fmt.Errorf("close share: %w", cerr)
	}
	s.readers.invalidate(uploadKey{si, shnum})
	if err := s.recordLeases(ctx, si, shnum, KindImmutable, u.size, func() ([]Lease, error) { return leases, nil }); err != nil {
		return storage.WriteResult{}, err
	}
	if len(leases) > 0 {
		if err := s.logLease(ctx, si, false, leases[0]); err != nil {
			return storage.WriteResult{}, err
		}
	}
	s.opts.Logger.Debug("share complete", "si", si.String(), "shnum", shnum)
	return storage.WriteResult{Complete: true, Required: []storage.Range{}}, nil
}

// AbortUpload implements storage.Server.
func (s *Store) AbortUpload(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u, err := s.lookupUpload(si, shnum, uploadSecret)
	if errors.Is(err, storage.ErrNotFound) && s.isKind(ctx, si, shnum, KindImmutable) {
		return fmt.Errorf("share %s/%d is complete: %w", si, shnum, storage.ErrNotAllowed)
	}
	if err != nil {
		return err
	}
	return s.abort(si, shnum, u)
}

func (s *Store) abort(si storage.StorageIndex, shnum int, u *upload) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return fmt.Errorf("share %s/%d is complete: %w", si, shnum, storage.ErrNotAllowed)
	}
	u.done = true
	s.mu.Lock()
	delete(s.uploads, uploadKey{si, shnum})
	s.allocated -= u.size
	s.mu.Unlock()
	return wrapErr("abort upload", u.w.Close())
}

// AbortIdleUploads aborts uploads not written for longer than idle (Tahoe
// gives up after 30 minutes), freeing their space; it returns how many.
func (s *Store) AbortIdleUploads(idle time.Duration) int {
	cutoff := s.opts.Now().Add(-idle)
	s.mu.Lock()
	var stale []uploadKey
	for k, u := range s.uploads {
		if u.mu.TryLock() {
			if !u.done && u.active.Before(cutoff) {
				stale = append(stale, k)
			}
			u.mu.Unlock()
		}
	}
	s.mu.Unlock()
	n := 0
	for _, k := range stale {
		s.mu.Lock()
		u := s.uploads[k]
		s.mu.Unlock()
		if u == nil {
			continue
		}
		if err := s.abort(k.si, k.shnum, u); err == nil {
			n++
			s.opts.Logger.Debug("aborted idle upload", "si", k.si.String(), "shnum", k.shnum)
		}
	}
	return n
}

// ListShares implements storage.Server: the complete immutable shares.
func (s *Store) ListShares(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, out, err := s.listKind(ctx, si, KindImmutable)
	return out, err
}

// ReadShareChunk implements storage.Server.
func (s *Store) ReadShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := s.openImmutable(ctx, si, shnum)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	dl := h.c.dataLen
	if offset >= uint64(dl) {
		return []byte{}, nil
	}
	b := make([]byte, min(length, uint64(dl)-offset))
	if _, err := h.c.ReadData(b, int64(offset)); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read share %s/%d: %w", si, shnum, err)
	}
	return b, nil
}

// ReadShareChunkInto is ReadShareChunk into the caller's buffer: it
// reads up to len(p) bytes at offset of a complete immutable share into p,
// through the store's cached read handle, and returns how many; fewer only
// past the end of the data.
func (s *Store) ReadShareChunkInto(ctx context.Context, si storage.StorageIndex, shnum int, offset uint64, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	h, err := s.openImmutable(ctx, si, shnum)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	dl := uint64(h.c.dataLen)
	if offset >= dl {
		return 0, nil
	}
	n, err := h.c.ReadData(p[:min(uint64(len(p)), dl-offset)], int64(offset))
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read share %s/%d: %w", si, shnum, err)
	}
	return n, nil
}

// ImmutableShareLength is the length of the data of a complete immutable
// share.
func (s *Store) ImmutableShareLength(ctx context.Context, si storage.StorageIndex, shnum int) (int64, error) {
	h, err := s.openImmutable(ctx, si, shnum)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	return h.c.dataLen, nil
}

// openImmutable returns a (possibly cached) open immutable share.
func (s *Store) openImmutable(ctx context.Context, si storage.StorageIndex, shnum int) (*cachedShare, error) {
	if !backend.ValidShareNumber(shnum) {
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	key := uploadKey{si, shnum}
	if h := s.readers.get(key); h != nil {
		return h, nil
	}
	r, err := s.b.Open(ctx, si, shnum)
	if err != nil {
		return nil, notFound(err, si, shnum)
	}
	if detect(r) != KindImmutable {
		r.Close()
		return nil, fmt.Errorf("share %s/%d is not an immutable share: %w", si, shnum, storage.ErrNotFound)
	}
	c, err := parseImmutable(r)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, err)
	}
	return s.readers.add(key, r, c), nil
}

// OpenShare opens a complete share for streaming reads of its data
// (gbsserver.ShareOpener): an io.ReaderAt over the share data and its
// length. mutable selects the container kind.
func (s *Store) OpenShare(ctx context.Context, si storage.StorageIndex, shnum int, mutable bool) (storage.ShareData, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if mutable {
		return s.openMutableData(ctx, si, shnum)
	}
	h, err := s.openImmutable(ctx, si, shnum)
	if err != nil {
		return nil, err
	}
	return h, nil
}
