package filestoretest_test

import (
	"testing"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestDirectConformance holds the direct store over an embedded grid of
// four servers (2-of-4) to the contract. The known divergences are
// pkg/client's to fix; each shows as a SKIP with its reason.
func TestDirectConformance(t *testing.T) {
	dir := t.TempDir()
	if err := localgrid.Create(dir, 4); err != nil {
		t.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := client.NewStore(&client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 128 << 10},
		Convergence: []byte("c"), LeaseSecret: []byte("l")}, client.GridLocal)
	t.Cleanup(func() { _ = s.Close() })
	filestoretest.StoreConformance(t, s)
}
