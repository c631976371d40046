package client

import (
	"context"
	"errors"
	"fmt"

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
	rs := forEachServer(ctx, c, servers, func(qctx context.Context, s Server) (struct{}, error) {
		return struct{}{}, s.Storage.AddOrRenewLease(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(s)))
	})
	for i, r := range rs {
		switch {
		case r.Err == nil:
			res.Renewed = append(res.Renewed, servers[i].ID)
		case !errors.Is(r.Err, storage.ErrNotFound):
			res.Failed[servers[i].ID] = r.Err
		}
	}
	return res, ctx.Err()
}
