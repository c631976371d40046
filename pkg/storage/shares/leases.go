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

// LeaseLog keeps leases outside the containers, per storage index
// (pkg/storage/leaselog.Recorder implements it). Leases are named by the
// hash of their renew secret that containers keep (Lease.RenewSecret),
// never by the secret.
type LeaseLog interface {
	// RenewLease records that the holder of renewHash leases the shares of
	// si (mutable or not) from renewed until expires. It returns once the
	// record is durable.
	RenewLease(ctx context.Context, si storage.StorageIndex, mutable bool, renewHash [32]byte, renewed, expires time.Time) error
	// ExpiredIndexes lists the storage indexes whose every lease has
	// expired at now (under the log's expiry policy).
	ExpiredIndexes(ctx context.Context, now time.Time) ([]storage.StorageIndex, error)
	// ForgetIndex records that the shares of si were deleted at t.
	ForgetIndex(ctx context.Context, si storage.StorageIndex, t time.Time) error
}

// logLease records lease in the lease log, if there is one.
func (s *Store) logLease(ctx context.Context, si storage.StorageIndex, mutable bool, lease Lease) error {
	if s.opts.LeaseLog == nil {
		return nil
	}
	exp := time.Unix(int64(lease.Expiration), 0)
	err := s.opts.LeaseLog.RenewLease(context.WithoutCancel(ctx), si, mutable, lease.RenewSecret, exp.Add(-leaseRenewalSeconds*time.Second), exp)
	if err != nil {
		return fmt.Errorf("lease on %s: %w", si, err)
	}
	return nil
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
	if s.opts.LeaseLog != nil {
		// One record for the storage index; the containers are left alone.
		kind, err := s.kindOf(ctx, si, nums[0])
		if errors.Is(err, backend.ErrNotExist) {
			return fmt.Errorf("storage index %s: %w", si, storage.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.logLease(ctx, si, kind == KindMutable, NewLease(1, lease.Renew[:], lease.Cancel[:], s.expiration(), s.opts.NodeID))
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
	if s.opts.LeaseLog != nil {
		return s.expireLogged(ctx, now)
	}
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

// expireLogged deletes every share of the storage indexes the lease log
// reports expired, then records their deletion there.
func (s *Store) expireLogged(ctx context.Context, now time.Time) (int, error) {
	sis, err := s.opts.LeaseLog.ExpiredIndexes(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, si := range sis {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		removed, err := s.removeIndex(ctx, si)
		n += removed
		if err == nil {
			err = s.opts.LeaseLog.ForgetIndex(context.WithoutCancel(ctx), si, now)
		}
		if err != nil {
			return n, fmt.Errorf("expire shares of %s: %w", si, err)
		}
		s.opts.Logger.Debug("expired storage index", "si", si.String(), "shares", removed)
	}
	return n, nil
}

// removeIndex deletes every committed share of si, under its lock.
func (s *Store) removeIndex(ctx context.Context, si storage.StorageIndex) (int, error) {
	unlock, err := s.lockBucket(ctx, si)
	if err != nil {
		return 0, err
	}
	defer unlock()
	nums, err := s.b.List(ctx, si)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, shnum := range nums {
		err := s.b.Remove(ctx, si, shnum)
		s.readers.invalidate(uploadKey{si, shnum})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return n, err
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}
