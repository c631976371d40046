package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/health"
)

// ErrMutableCheckUnsupported means checking mutable files and directories
// is not built yet (it waits for the parallel mutable servermap).
var ErrMutableCheckUnsupported = errors.New("checking mutable files is not supported yet")

func (c *Client) checkMutable(_ context.Context, cp *caps.Cap, _ CheckOptions) (*health.Results, error) {
	return nil, fmt.Errorf("%s: %w", cp.Kind, ErrMutableCheckUnsupported)
}

func (c *Client) checkAndRepairMutable(_ context.Context, cp *caps.Cap, _ CheckOptions) (*health.CheckAndRepair, error) {
	return nil, fmt.Errorf("%s: %w", cp.Kind, ErrMutableCheckUnsupported)
}
