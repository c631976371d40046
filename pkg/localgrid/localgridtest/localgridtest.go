// Package localgridtest gives tests a fresh embedded local grid (see
// pkg/localgrid) in their temporary directory and a direct client.Store
// over it, closed when the test ends. It owns test setup only: no test
// of any package lives here, and nothing outside _test.go files should
// import it.
package localgridtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Options says what grid and client a test wants. Convergence decides the
// CHK caps a golden file may hold, so each test suite keeps its own.
type Options struct {
	Servers     int              // storage servers in the grid
	Encoding    nodedir.Encoding // the client's k-of-n, happiness, segment size
	Convergence []byte           // the client's convergence secret
	LeaseSecret []byte           // the client's lease secret
	// Memory keeps the servers' shares in memory (localgrid.Options);
	// ShareFiles and RemoveShares then find none.
	Memory bool
}

// Grid is an embedded local grid and a store over it.
type Grid struct {
	// Dir is the node directory holding the grid (in localgrid.Dir).
	Dir string
	// Store is a direct client.Store (client.GridLocal) over the grid's
	// servers; it is closed by the test's cleanup.
	Store *client.Store
}

// New makes a grid of o.Servers servers in a new temporary directory of
// tb and a store over it, failing tb if either cannot be made.
func New(tb testing.TB, o Options) *Grid {
	tb.Helper()
	dir := tb.TempDir()
	if err := localgrid.Create(dir, o.Servers); err != nil {
		tb.Fatal(err)
	}
	ss, err := localgrid.OpenWith(dir, localgrid.Options{Memory: o.Memory})
	if err != nil {
		tb.Fatal(err)
	}
	s := client.NewStore(&client.Client{Servers: ss, Encoding: o.Encoding,
		Convergence: o.Convergence, LeaseSecret: o.LeaseSecret}, client.GridLocal)
	tb.Cleanup(func() { _ = s.Close() })
	return &Grid{Dir: dir, Store: s}
}

// ShareFiles lists the container files of c's storage index held by any
// server of the grid whose share number matches the glob pattern shnum
// ("*" for all), in path order.
func (g *Grid) ShareFiles(tb testing.TB, c *caps.Cap, shnum string) []string {
	tb.Helper()
	si := caps.Base32Encode(c.StorageIndex)
	m, err := filepath.Glob(filepath.Join(g.Dir, localgrid.Dir, "*", "shares", si[:2], si, shnum))
	if err != nil {
		tb.Fatalf("shares of %s: %v", si, err)
	}
	return m
}

// RemoveShares deletes the first n of c's share files (see ShareFiles),
// failing tb if there are fewer.
func (g *Grid) RemoveShares(tb testing.TB, c *caps.Cap, n int) {
	tb.Helper()
	paths := g.ShareFiles(tb, c, "*")
	if len(paths) < n {
		tb.Fatalf("shares of %s: %d, want at least %d", caps.Base32Encode(c.StorageIndex), len(paths), n)
	}
	for _, p := range paths[:n] {
		if err := os.Remove(p); err != nil {
			tb.Fatal(err)
		}
	}
}
