package shares

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// ReadTestWrite implements storage.Server. The bucket lock is held
// throughout, so the tests, reads and writes see no other writer (in any
// process sharing a disk backend).
func (s *Store) ReadTestWrite(ctx context.Context, si storage.StorageIndex, secrets storage.MutableSecrets, req storage.ReadTestWriteRequest) (storage.ReadTestWriteResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.ReadTestWriteResult{}, err
	}
	for n := range req.TestWriteVectors {
		if n > backend.MaxShareNumber {
			return storage.ReadTestWriteResult{}, fmt.Errorf("share number %d: %w", n, storage.ErrBadRequest)
		}
	}
	unlock, err := s.lockBucket(ctx, si)
	if err != nil {
		return storage.ReadTestWriteResult{}, err
	}
	defer unlock()

	nums, err := s.b.List(ctx, si)
	if err != nil {
		return storage.ReadTestWriteResult{}, err
	}
	readers := map[int]backend.Reader{}
	shares := map[int]*mutableShare{}
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	// Immutable (or unreadable) containers under si are another world: not
	// read, tested as missing, and never written over.
	var mutableNums []int
	foreign := map[int]bool{}
	for _, n := range nums {
		// A share that will be written is opened for editing at once, so
		// the tests, reads and writes share one handle.
		var r backend.Reader
		var err error
		// (Every vector that does not delete its share writes: at least
		// the lease.)
		if tw, ok := req.TestWriteVectors[uint64(n)]; ok && (tw.NewLength == nil || *tw.NewLength != 0) {
			var e backend.Writer
			if e, err = s.b.Edit(ctx, si, n); err == nil {
				r = e
			}
		} else {
			r, err = s.b.Open(ctx, si, n)
		}
		if errors.Is(err, backend.ErrNotExist) {
			continue
		}
		if err != nil {
			return storage.ReadTestWriteResult{}, err
		}
		if detect(r) != KindMutable {
			r.Close()
			foreign[n] = true
			continue
		}
		readers[n] = r
		mutableNums = append(mutableNums, n)
		c, err := parseMutable(r)
		if err != nil {
			return storage.ReadTestWriteResult{}, fmt.Errorf("share %s/%d: %w", si, n, err)
		}
		shares[n] = c
		we, _, err := c.WriteEnabler()
		if err != nil {
			return storage.ReadTestWriteResult{}, err
		}
		if subtle.ConstantTimeCompare(we[:], secrets.WriteEnabler[:]) != 1 {
			return storage.ReadTestWriteResult{}, fmt.Errorf("write enabler for %s: %w", si, storage.ErrUnauthorized)
		}
	}
	for n, tw := range req.TestWriteVectors {
		if foreign[int(n)] && (len(tw.Write) > 0 || tw.NewLength != nil) {
			return storage.ReadTestWriteResult{}, fmt.Errorf("share %s/%d is an immutable share: %w", si, n, storage.ErrConflict)
		}
	}
	nums = mutableNums
	// Tests.
	ok := true
	for n, tw := range req.TestWriteVectors {
		for _, t := range tw.Test {
			var got []byte
			if c := shares[int(n)]; c != nil {
				got, err = c.ReadData(clampOff(t.Offset), clampOff(t.Size))
				if err != nil {
					return storage.ReadTestWriteResult{}, err
				}
			}
			if !bytes.Equal(got, t.Specimen) {
				ok = false
			}
		}
	}
	// Reads, before any write.
	res := storage.ReadTestWriteResult{Success: ok, Data: map[uint64][][]byte{}}
	for _, n := range nums {
		var datav [][]byte
		for _, r := range req.ReadVector {
			b, err := shares[n].ReadData(clampOff(r.Offset), clampOff(r.Size))
			if err != nil {
				return storage.ReadTestWriteResult{}, err
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
	lease := NewLease(1, secrets.Lease.Renew[:], secrets.Lease.Cancel[:], s.expiration(), s.opts.NodeID)
	wrote := false
	for _, n64 := range keys {
		n := int(n64)
		tw := req.TestWriteVectors[n64]
		if tw.NewLength != nil && *tw.NewLength == 0 {
			if shares[n] != nil {
				readers[n].Close()
				delete(readers, n)
				delete(shares, n)
				if err := s.b.Remove(ctx, si, n); err != nil {
					return storage.ReadTestWriteResult{}, fmt.Errorf("delete mutable share: %w", err)
				}
				s.readers.invalidate(uploadKey{si, n})
				if s.opts.Leases != nil {
					if err := s.opts.Leases.DeleteShare(context.WithoutCancel(ctx), si, n); err != nil {
						return storage.ReadTestWriteResult{}, err
					}
				}
			}
			continue // an emptied bucket goes when the lock is released
		}
		var edit backend.Writer
		if shares[n] != nil {
			edit, _ = readers[n].(backend.Writer)
		}
		if err := s.writeMutable(ctx, si, n, shares[n], edit, secrets.WriteEnabler, tw, lease, secrets.Lease); err != nil {
			return storage.ReadTestWriteResult{}, err
		}
		wrote = true
	}
	if s.opts.LeaseLog != nil && len(shares) == 0 && len(nums) > 0 && !wrote {
		// Every share was deleted: the lease log forgets the index.
		if err := s.opts.LeaseLog.ForgetIndex(context.WithoutCancel(ctx), si, s.opts.Now()); err != nil {
			return storage.ReadTestWriteResult{}, err
		}
	}
	return res, nil
}

// writeMutable applies one share's write vectors (the bucket lock is
// held): through edit, the existing share c's open editor, or as a new
// container committed whole when c is nil. The caller closes edit.
func (s *Store) writeMutable(ctx context.Context, si storage.StorageIndex, n int, c *mutableShare, edit backend.Writer, we [32]byte, tw storage.TestWriteVectors, lease Lease, sec storage.LeaseSecrets) error {
	apply := func(c *mutableShare) error {
		dl, err := c.DataLength()
		if err != nil {
			return err
		}
		// Growth must fit in the space left (Tahoe only caps the size).
		var grow uint64
		for _, w := range tw.Write {
			if limit := s.opts.MaxMutableShareSize; w.Offset > limit || uint64(len(w.Data)) > limit-w.Offset {
				return fmt.Errorf("mutable write at %d past the %d-byte maximum share size: %w", w.Offset, limit, storage.ErrTooLarge)
			}
			if end := w.Offset + uint64(len(w.Data)); end > uint64(dl) {
				grow = max(grow, end-uint64(dl))
			}
		}
		if grow > 0 && grow > uint64(s.availableSpaceMutable(ctx)) {
			return fmt.Errorf("mutable share would grow by %d bytes: %w", grow, storage.ErrTooLarge)
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
	w := edit
	var err error
	if c != nil {
		if w == nil {
			return fmt.Errorf("share %s/%d was not opened for editing", si, n)
		}
	} else {
		w, err = s.b.Create(ctx, si, n, -1)
		if errors.Is(err, backend.ErrExist) {
			return fmt.Errorf("share %s/%d is being uploaded: %w", si, n, storage.ErrConflict)
		}
		if err != nil {
			return err
		}
		defer w.Close()
		if c, err = newMutable(w, s.opts.NodeID, we); err != nil {
			return err
		}
	}
	if err := apply(c); err != nil {
		return err
	}
	// The writes are made: finish them even if the caller has gone away.
	switch err := w.Commit(context.WithoutCancel(ctx)); {
	case errors.Is(err, backend.ErrExist), errors.Is(err, backend.ErrConflict):
		return fmt.Errorf("share %s/%d changed concurrently: %w", si, n, storage.ErrConflict)
	case err != nil:
		return fmt.Errorf("commit mutable share %s/%d: %w", si, n, err)
	}
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	if err := s.logLease(ctx, si, true, lease); err != nil {
		return err
	}
	return s.recordLeases(ctx, si, n, KindMutable, dl, func() ([]Lease, error) {
		ls, _, err := c.Leases()
		return ls, err
	})
}

// ListMutableShares implements storage.Server: the mutable shares.
func (s *Store) ListMutableShares(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, out, err := s.listKind(ctx, si, KindMutable)
	return out, err
}

// ReadMutableShareChunk implements storage.Server.
func (s *Store) ReadMutableShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := s.openMutableData(ctx, si, shnum)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.c.ReadData(clampOff(offset), clampOff(length))
}

// mutableData is an open mutable share's data (storage.ShareData).
type mutableData struct {
	r backend.Reader
	c *mutableShare
	n int64
}

func (s *Store) openMutableData(ctx context.Context, si storage.StorageIndex, shnum int) (*mutableData, error) {
	if !backend.ValidShareNumber(shnum) {
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	r, err := s.b.Open(ctx, si, shnum)
	if err != nil {
		return nil, notFound(err, si, shnum)
	}
	if detect(r) != KindMutable {
		r.Close()
		return nil, fmt.Errorf("share %s/%d is not a mutable share: %w", si, shnum, storage.ErrNotFound)
	}
	c, err := parseMutable(r)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, err)
	}
	dl, err := c.DataLength()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("share %s/%d: %w", si, shnum, err)
	}
	return &mutableData{r: r, c: c, n: dl}, nil
}

func (m *mutableData) Size() int64  { return m.n }
func (m *mutableData) Close() error { return m.r.Close() }
func (m *mutableData) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= m.n {
		return 0, io.EOF
	}
	short := int64(len(p)) > m.n-off
	if short {
		p = p[:m.n-off]
	}
	n, err := m.r.ReadAt(p, mutableDataOffset+off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}
