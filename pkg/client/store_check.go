package client

import (
	"context"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/health"
)

// Check checks the object c names (see Client.Check).
func (s *Store) Check(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.Results, error) {
	return s.Client.Check(ctx, c, o)
}

// CheckAndRepair checks the object c names and repairs it when it is not
// healthy (see Client.CheckAndRepair).
func (s *Store) CheckAndRepair(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.CheckAndRepair, error) {
	return s.Client.CheckAndRepair(ctx, c, o)
}

// AddLease renews the node's leases on every share of the object c names
// (see Client.AddLease).
func (s *Store) AddLease(ctx context.Context, c *caps.Cap) (*LeaseResult, error) {
	return s.Client.AddLease(ctx, c)
}
