package filestoretest_test

import (
	"testing"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestDirectConformance holds the direct store over an embedded grid of
// four servers (2-of-4) to the contract, with the servers' shares on disk
// (Tahoe's layout, as `lafs` uses it) and in memory: everything above the
// share backend behaves the same over both.
func TestDirectConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts localgrid.Options
	}{
		{"disk", localgrid.Options{}},
		{"memory", localgrid.Options{Memory: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := localgrid.Create(dir, 4); err != nil {
				t.Fatal(err)
			}
			ss, err := localgrid.OpenWith(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			s := client.NewStore(&client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
				Convergence: []byte("c"), LeaseSecret: []byte("l")}, client.GridLocal)
			t.Cleanup(func() { _ = s.Close() })
			filestoretest.StoreConformance(t, s)
		})
	}
}
