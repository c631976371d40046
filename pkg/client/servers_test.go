package client

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/storage/shares"
)

// testServers starts n in-process storage servers, each over its own
// share store in a temporary directory, with random seeds as real nodes
// have. They are closed when the test ends.
func testServers(tb testing.TB, n int) []Server {
	tb.Helper()
	dir := tb.TempDir()
	var out []Server
	tb.Cleanup(func() { CloseServers(out) })
	for i := 0; i < n; i++ {
		seed, lease := make([]byte, 32), make([]byte, 20)
		_, _ = rand.Read(seed)
		_, _ = rand.Read(lease)
		var nodeID [20]byte
		copy(nodeID[:], lease)
		local, err := shares.OpenDisk(filepath.Join(dir, fmt.Sprint(i)), shares.Options{NodeID: nodeID, ApplicationVersion: "lafs test server"})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, Server{ID: fmt.Sprintf("v0-test-%03d", i), Nickname: fmt.Sprintf("test-%d", i), Addr: "local",
			PermutationSeed: seed, LeaseSeed: lease, Storage: local})
	}
	return out
}
