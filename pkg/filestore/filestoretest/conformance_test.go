package filestoretest_test

import (
	"testing"

	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestDirectConformance holds the direct store over an embedded grid of
// four servers (2-of-4) to the contract. The known divergences are
// pkg/client's to fix; each shows as a SKIP with its reason.
func TestDirectConformance(t *testing.T) {
	g := localgridtest.New(t, localgridtest.Options{Servers: 4, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
		Convergence: []byte("c"), LeaseSecret: []byte("l")})
	s := g.Store
	filestoretest.StoreConformance(t, s)
}
