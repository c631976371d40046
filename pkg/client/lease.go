package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// LeaseResult says where AddLease renewed leases.
type LeaseResult struct {
	// Renewed are the ids of the servers holding shares whose leases were
	// renewed (or added).
	Renewed []string
	// Failed maps the id of each server that failed (other than by holding
	// no share) to its error.
	Failed map[string]error
}

// AddLease renews this client's lease (or adds one) on every share of the
// object cp names, immutable or mutable, on every server: Tahoe's
// add-lease, with the lease secrets derived from the node's secret for
// each server. Servers holding no share are skipped quietly. A LIT object
// has no shares and nothing to renew.
func (c *Client) AddLease(ctx context.Context, cp *caps.Cap) (*LeaseResult, error) {
	res := &LeaseResult{Failed: map[string]error{}}
	f := cp
	if cp.IsDirectory() {
		var err error
		if f, err = caps.FileOf(cp); err != nil {
			return nil, err
		}
	}
	switch {
	case f.Kind == caps.KindLIT:
		return res, nil
	case f.IsUnknown() || len(f.StorageIndex) == 0:
		return nil, fmt.Errorf("%w: %s", ErrNotCheckable, cp.Kind)
	}
	si, err := toSI(f.StorageIndex)
	if err != nil {
		return nil, err
	}
	servers := Permuted(c.Servers, si[:])
	var mu sync.Mutex
	checkEach(ctx, servers, c.timeout(), func(qctx context.Context, _ int, s Server) {
		err := s.Storage.AddOrRenewLease(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(s)))
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			res.Renewed = append(res.Renewed, s.ID)
		case !errors.Is(err, storage.ErrNotFound):
			res.Failed[s.ID] = err
		}
	})
	return res, ctx.Err()
}
