package gateway

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/health"
)

// maxCheckJSON bounds a check's JSON answer (a sharemap of 256 shares on
// many servers is still far below it).
const maxCheckJSON = 4 << 20

// checkRequest is POST /uri/$CAP?t=check&output=JSON with Tahoe's flags.
// A verify or repair reads whole shares, so it is bounded only by ctx.
func checkRequest(c *caps.Cap, o health.CheckOptions, repair bool) request {
	q := "t=check&output=JSON"
	if o.Verify {
		q += "&verify=true"
	}
	if repair {
		q += "&repair=true"
	}
	if o.AddLease {
		q += "&add-lease=true"
	}
	return request{op: "check", method: "POST", path: capPath(c.String()), query: q, size: -1, stream: o.Verify || repair}
}

// Check asks the node to check the object c names (t=check), as Tahoe's
// `tahoe check` does: the node looks at the shares; the answer is its
// JSON results.
func (s *Store) Check(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.Results, error) {
	body, err := s.call(ctx, checkRequest(c, o, false), maxCheckJSON)
	if err != nil {
		return nil, err
	}
	r, err := health.ParseResults(body)
	if err != nil {
		return nil, fmt.Errorf("check: the node's answer: %w", err)
	}
	return r, nil
}

// CheckAndRepair asks the node to check the object c names and repair it
// if it is not healthy (t=check&repair=true).
// A literal object has nothing to repair; Tahoe's node answers its plain
// check results, so it is not asked.
func (s *Store) CheckAndRepair(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.CheckAndRepair, error) {
	if c.Kind == caps.KindLIT || c.Kind == caps.KindDIR2LIT {
		return health.LiteralRepair(), nil
	}
	body, err := s.call(ctx, checkRequest(c, o, true), maxCheckJSON)
	if err != nil {
		return nil, err
	}
	r, err := health.ParseCheckAndRepair(body)
	if err != nil {
		return nil, fmt.Errorf("check: the node's answer: %w", err)
	}
	return r, nil
}
