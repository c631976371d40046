package shares

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/expiry"
)

// ExpireByPolicy is Tahoe's lease expirer: it deletes every share whose
// leases have all expired under p (age, with or without
// override_lease_duration, or cutoff-date; only the kinds p lets expire)
// and returns how many it deleted. With a lease recorder the candidates
// come from it; without one every storage index of the backend is
// walked. Either way each share's own container decides, read under the
// bucket lock, so a lease renewed meanwhile keeps its share. A disabled
// policy deletes nothing. A store whose leases live in a lease log (the S3
// backend) expires by the log's own policy (ExpireShares).
func (s *Store) ExpireByPolicy(ctx context.Context, p expiry.Policy, now time.Time) (int, error) {
	if !p.Enabled {
		return 0, nil
	}
	if s.opts.LeaseLog != nil {
		return s.ExpireShares(ctx, now)
	}
	var refs []ShareRef
	if s.opts.Leases != nil {
		var err error
		if refs, err = s.opts.Leases.ExpiredShares(ctx, p.Threshold(now)); err != nil {
			return 0, err
		}
	} else {
		err := s.b.Walk(ctx, func(si storage.StorageIndex) error {
			nums, err := s.b.List(ctx, si)
			if err != nil {
				return err
			}
			for _, n := range nums {
				refs = append(refs, ShareRef{StorageIndex: si, Share: n})
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("expire shares: %w", err)
		}
	}
	n := 0
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		gone, err := s.expireOne(ctx, p, now, r)
		if err != nil {
			return n, fmt.Errorf("expire share %s/%d: %w", r.StorageIndex, r.Share, err)
		}
		if gone {
			n++
			s.opts.Logger.Debug("expired share", "si", r.StorageIndex.String(), "shnum", r.Share)
		}
	}
	return n, nil
}

// expireOne deletes one share if its container's leases say so.
func (s *Store) expireOne(ctx context.Context, p expiry.Policy, now time.Time, r ShareRef) (bool, error) {
	unlock, err := s.lockBucket(ctx, r.StorageIndex)
	if err != nil {
		return false, err
	}
	defer unlock()
	kind, exps, err := s.leaseExpirations(ctx, r)
	if errors.Is(err, backend.ErrNotExist) {
		return false, s.forget(ctx, r) // already gone: forget it
	}
	if err != nil {
		return false, err
	}
	if !p.Expires(kind, exps, now) {
		return false, nil
	}
	err = s.b.Remove(ctx, r.StorageIndex, r.Share)
	s.readers.invalidate(uploadKey{r.StorageIndex, r.Share})
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return false, err
	}
	return true, s.forget(ctx, r)
}

func (s *Store) forget(ctx context.Context, r ShareRef) error {
	if s.opts.Leases == nil {
		return nil
	}
	return s.opts.Leases.DeleteShare(context.WithoutCancel(ctx), r.StorageIndex, r.Share)
}

// leaseExpirations reads a share container's kind and the expiration time
// of each of its leases.
func (s *Store) leaseExpirations(ctx context.Context, r ShareRef) (string, []time.Time, error) {
	f, err := s.b.Open(ctx, r.StorageIndex, r.Share)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	var kind string
	var leases []Lease
	switch detect(f) {
	case KindImmutable:
		kind = expiry.Immutable
		c, err := parseImmutable(f)
		if err != nil {
			return "", nil, err
		}
		leases, err = c.Leases()
		if err != nil {
			return "", nil, err
		}
	case KindMutable:
		kind = expiry.Mutable
		c, err := parseMutable(f)
		if err != nil {
			return "", nil, err
		}
		leases, _, err = c.Leases()
		if err != nil {
			return "", nil, err
		}
	default:
		return "", nil, ErrUnknownContainer
	}
	out := make([]time.Time, len(leases))
	for i, l := range leases {
		out[i] = time.Unix(int64(l.Expiration), 0)
	}
	return kind, out, nil
}
