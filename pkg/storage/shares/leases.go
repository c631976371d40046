package shares

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// LeaseRecorder mirrors the leases the store writes into its containers
// (pkg/storage/leasedb implements it over SQLite). The containers stay
// authoritative.
type LeaseRecorder interface {
	// PutShare records share shnum of si with its data size and exactly
	// these leases, replacing what was recorded before.
	PutShare(ctx context.Context, si storage.StorageIndex, shnum int, kind ContainerKind, size int64, leases []Lease) error
	// DeleteShare forgets a share and its leases.
	DeleteShare(ctx context.Context, si storage.StorageIndex, shnum int) error
	// ExpiredShares lists the shares whose every lease expired before now.
	ExpiredShares(ctx context.Context, now time.Time) ([]ShareRef, error)
}

// ShareRef names one share.
type ShareRef struct {
	StorageIndex storage.StorageIndex
	Share        int
}

// AddOrRenewLease implements storage.Server.
func (s *Store) AddOrRenewLease(ctx context.Context, si storage.StorageIndex, lease storage.LeaseSecrets) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nums, err := s.b.List(ctx, si)
	if err != nil {
		return err
	}
	if len(nums) == 0 {
		return fmt.Errorf("storage index %s: %w", si, storage.ErrNotFound)
	}
	unlock, err := s.lockBucket(ctx, si)
	if err != nil {
		return err
	}
	defer unlock()
	exp := s.expiration()
	for _, n := range nums {
		kind, err := s.kindOf(ctx, si, n)
		if errors.Is(err, backend.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		newLease := NewLease(1, lease.Renew[:], lease.Cancel[:], exp, s.opts.NodeID)
		switch kind {
		case KindImmutable:
			if err := s.renewImmutable(ctx, si, n, lease, newLease); err != nil {
				return err
			}
		case KindMutable:
			if err := s.renewMutable(ctx, si, n, lease, newLease); err != nil {
				return fmt.Errorf("lease on %s/%d: %w", si, n, err)
			}
		}
	}
	return nil
}

func (s *Store) renewMutable(ctx context.Context, si storage.StorageIndex, n int, sec storage.LeaseSecrets, lease Lease) error {
	e, err := s.b.Edit(ctx, si, n)
	if err != nil {
		return notFound(err, si, n)
	}
	defer e.Close()
	c, err := parseMutable(e)
	if err != nil {
		return err
	}
	if err := c.AddOrRenewLease(sec, lease); err != nil {
		return err
	}
	if err := e.Commit(ctx); err != nil {
		return err
	}
	dl, err := c.DataLength()
	if err != nil {
		return err
	}
	return s.recordLeases(ctx, si, n, KindMutable, dl, func() ([]Lease, error) {
		ls, _, err := c.Leases()
		return ls, err
	})
}

// ExpireShares deletes the shares whose every lease had expired by now,
// as the lease recorder records them (Tahoe's expire.mode = age), and
// returns how many it deleted. It needs Options.Leases.
func (s *Store) ExpireShares(ctx context.Context, now time.Time) (int, error) {
	if s.opts.Leases == nil {
		return 0, fmt.Errorf("expire shares: no lease database")
	}
	refs, err := s.opts.Leases.ExpiredShares(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		unlock, err := s.lockBucket(ctx, r.StorageIndex)
		if err != nil {
			return n, err
		}
		err = s.b.Remove(ctx, r.StorageIndex, r.Share)
		s.readers.invalidate(uploadKey{r.StorageIndex, r.Share})
		if err == nil || errors.Is(err, backend.ErrNotExist) {
			err = s.opts.Leases.DeleteShare(context.WithoutCancel(ctx), r.StorageIndex, r.Share)
			if err == nil {
				n++
			}
		}
		unlock()
		if err != nil {
			return n, fmt.Errorf("expire share %s/%d: %w", r.StorageIndex, r.Share, err)
		}
		s.opts.Logger.Debug("expired share", "si", r.StorageIndex.String(), "shnum", r.Share)
	}
	return n, nil
}

func (s *Store) recordLeases(ctx context.Context, si storage.StorageIndex, n int, kind ContainerKind, size int64, leases func() ([]Lease, error)) error {
	if s.opts.Leases == nil {
		return nil
	}
	ls, err := leases()
	if err != nil {
		return err
	}
	// The share containers have already changed: record that even if the
	// caller has gone away.
	return s.opts.Leases.PutShare(context.WithoutCancel(ctx), si, n, kind, size, ls)
}
