package filestore

import (
	"context"
	"time"
)

// Reporter is implemented by stores that can describe the grid behind
// them (every store of this module does; a caller type-asserts for it).
type Reporter interface {
	// GridStatus asks each server how it is, waiting at most timeout for
	// any one of them.
	GridStatus(ctx context.Context, timeout time.Duration) (*GridStatus, error)
}

// GridStatus is the state of a store's grid.
type GridStatus struct {
	// Kind is "local" (the embedded local grid), "network" (storage
	// servers over GBS) or "gateway" (a node's web API).
	Kind    string
	Servers []ServerStatus
}

// ServerStatus is one storage server as seen from a store.
type ServerStatus struct {
	ID        string
	Nickname  string
	Address   string
	Reachable bool
	// AvailableSpace is nil when unknown.
	AvailableSpace *uint64
	Version        string
	// Error says why the server is not reachable ("" when it is).
	Error string
}
