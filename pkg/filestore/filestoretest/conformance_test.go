package filestoretest_test

import (
	"testing"

	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestDirectConformance holds the direct store over an embedded grid of
// four servers (2-of-4) to the contract, with the servers' shares on disk
// (Tahoe's layout, as `lafs` uses it) and in memory: everything above the
// share backend behaves the same over both.
func TestDirectConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		memory bool
	}{
		{"disk", false},
		{"memory", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := localgridtest.New(t, localgridtest.Options{Servers: 4, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
				Convergence: []byte("c"), LeaseSecret: []byte("l"), Memory: tc.memory})
			filestoretest.StoreConformance(t, g.Store)
		})
	}
}
