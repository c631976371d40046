package client

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/client/mutable"
)

// CreateMutable stores data as a new mutable file (format mutable.VersionSDMF
// or mutable.VersionMDMF) signed with key, or with a fresh RSA-2048 key when
// key is nil, and returns its writecap. Shares go to the reachable servers
// (all asked at once, each under the query timeout, no longer than a grace
// once N have answered) in permuted order, one share each in turn, written
// at once.
func (c *Client) CreateMutable(ctx context.Context, data []byte, format int, key *rsa.PrivateKey) (*caps.Cap, error) {
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("generating an RSA key: %w", err)
		}
	}
	b, err := mutable.Build(key, data, mutable.Params{Needed: c.Encoding.Needed, Total: c.Encoding.Total, Format: format, Seqnum: 1})
	if err != nil {
		return nil, err
	}
	si := b.Cap.StorageIndex
	servers := Permuted(c.Servers, si)
	// Enough servers to take one share each: the slower ones get the
	// grace, not the whole timeout.
	enough := func(rs []fanout.Result[struct{}]) bool {
		ok := 0
		for _, r := range rs {
			if r.Done && r.Err == nil {
				ok++
			}
		}
		return ok >= c.Encoding.Total
	}
	rs := fanout.Ask(ctx, len(servers), fanout.Options{Timeout: c.timeout(), Grace: c.grace()}, func(ctx context.Context, i int) (struct{}, error) {
		_, err := servers[i].Storage.Version(ctx)
		return struct{}{}, err
	}, enough)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var targets []mutable.Target
	for i, s := range servers {
		if rs[i].Err == nil {
			targets = append(targets, c.mutableTarget(s, si))
		}
	}
	if len(targets) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("no storage server of %d is reachable", len(servers))
	}
	if err := mutable.Create(ctx, b, targets, c.mutableOptions(nil)); err != nil {
		return nil, err
	}
	return b.Cap, nil
}

func (c *Client) mutableTarget(s Server, si []byte) mutable.Target {
	seed := leaseSeedOf(s)
	return mutable.Target{Storage: s.Storage, LeaseSeed: seed, Lease: LeaseSecrets(c.LeaseSecret, si, seed)}
}

// mutableOptions passes the client's timeouts on to pkg/client/mutable.
func (c *Client) mutableOptions(onBad func(int, error)) mutable.Options {
	return mutable.Options{Timeout: c.timeout(), TransferTimeout: c.transferTimeout(), Grace: c.grace(), OnBad: onBad, Needed: c.Encoding.Needed, Total: c.Encoding.Total}
}

// OverwriteMutable replaces the contents of the mutable file of writecap
// cp with data (a new version). It fails with mutable.ErrUncoordinated when
// another writer changed the file meanwhile, and mutable.ErrReadOnly for a
// read cap.
func (c *Client) OverwriteMutable(ctx context.Context, cp *caps.Cap, data []byte) error {
	switch cp.Kind {
	case caps.KindSSK, caps.KindMDMF:
	case caps.KindSSKRO, caps.KindMDMFRO:
		return mutable.ErrReadOnly
	default:
		return fmt.Errorf("a %s cap is not a mutable file", cp.Kind)
	}
	servers := Permuted(c.Servers, cp.StorageIndex)
	targets := make([]mutable.Target, len(servers))
	for i, s := range servers {
		targets[i] = c.mutableTarget(s, cp.StorageIndex)
	}
	return mutable.Overwrite(ctx, cp, data, targets, c.mutableOptions(nil))
}
