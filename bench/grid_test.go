package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"go.yaml.in/yaml/v3"
)

// The grid shape of every benchmark: 10 servers, 3-of-10, happy 7.
const (
	servers = 10
	needed  = 3
	happy   = 7
	total   = 10
)

// grid is a client node directory and the store lafs.Open gives for it.
type grid struct {
	name  string // "local" or "gbs10"
	dir   string // the client node directory
	mode  lafs.Mode
	store filestore.Store
}

// reopen opens the grid's node directory again: a second store with
// nothing cached and no connections, as a new process has.
func (g grid) reopen(tb testing.TB) filestore.Store { return open(tb, g.dir, g.mode) }

// grids returns the two grids a benchmark runs over: the embedded local
// grid and 10 GBS storage nodes in process. Both are torn down (nodes
// stopped and joined) when tb ends.
func grids(tb testing.TB) []grid {
	return []grid{localGrid(tb), gbsGrid(tb)}
}

// clientOptions are the options of a client node of the grid shape.
func clientOptions() node.NodeOptions {
	o := node.NewNodeOptions()
	o.Nickname = "client"
	o.NoStorage, o.Listen, o.WebPort = true, "none", "none"
	o.SharesNeeded, o.SharesHappy, o.SharesTotal = needed, happy, total
	return o
}

// localGrid makes a client node directory with an embedded grid of 10
// servers, as `tahoe create-client --local-grid=10` does, and opens it.
func localGrid(tb testing.TB) grid {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "local")
	if err := node.CreateNode(dir, clientOptions()); err != nil {
		tb.Fatal(err)
	}
	if err := localgrid.Create(dir, servers); err != nil {
		tb.Fatal(err)
	}
	return grid{name: "local", dir: dir, mode: lafs.ModeLocal, store: open(tb, dir, lafs.ModeLocal)}
}

// gbsGrid starts 10 storage nodes in this process (pkg/node's RunNode:
// the GBS server over TLS on 127.0.0.1, shares on disk, SQLite leases),
// writes a client node directory whose private/servers.yaml lists them,
// and opens it. The nodes are stopped and joined when tb ends.
func gbsGrid(tb testing.TB) grid {
	tb.Helper()
	root := tb.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, servers)
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		for i, err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				tb.Errorf("storage node %d: %v", i, err)
			}
		}
	})
	var nodes []string
	for i := 0; i < servers; i++ {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		o := node.NewNodeOptions()
		o.Nickname = fmt.Sprintf("storage-%02d", i)
		o.Port = fmt.Sprintf("tcp:%d:interface=127.0.0.1", port)
		o.Location = fmt.Sprintf("tcp:127.0.0.1:%d", port)
		o.WebPort = "none"
		nd := filepath.Join(root, o.Nickname)
		if err := node.CreateNode(nd, o); err != nil {
			tb.Fatal(err)
		}
		nodes = append(nodes, nd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = node.RunNode(ctx, nd, nil)
		}()
	}
	merged := map[string]any{}
	deadline := time.Now().Add(30 * time.Second)
	for i, nd := range nodes {
		entry := filepath.Join(nd, "private", "servers.yaml.entry")
		for {
			b, err := os.ReadFile(entry)
			if err == nil {
				var doc struct {
					Storage map[string]any `yaml:"storage"`
				}
				if err := yaml.Unmarshal(b, &doc); err != nil {
					tb.Fatalf("%s: %v", entry, err)
				}
				for k, v := range doc.Storage {
					merged[k] = v
				}
				break
			}
			if errs[i] != nil || time.Now().After(deadline) {
				tb.Fatalf("storage node %d did not start: %v", i, errs[i])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	dir := filepath.Join(root, "client")
	if err := node.CreateNode(dir, clientOptions()); err != nil {
		tb.Fatal(err)
	}
	out, err := yaml.Marshal(map[string]any{"storage": merged})
	if err != nil {
		tb.Fatal(err)
	}
	if err := nodedir.WriteFileAtomic(filepath.Join(dir, "private", "servers.yaml"), out, 0o600); err != nil {
		tb.Fatal(err)
	}
	return grid{name: "gbs10", dir: dir, mode: lafs.ModeNetwork, store: open(tb, dir, lafs.ModeNetwork)}
}

// open opens a node directory's store with lafs.Open, as the command
// lines do, and closes it when tb ends.
func open(tb testing.TB, dir string, want lafs.Mode) filestore.Store {
	tb.Helper()
	n, err := nodedir.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	s, mode, err := lafs.Open(n, lafs.Options{Warn: func(msg string) { tb.Log(msg) }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if mode != want {
		tb.Fatalf("%s opened as %s, want %s", dir, mode, want)
	}
	return s
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// fileSize is the put/get file size: LAFS_BENCH_MIB MiB, default 64.
func fileSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("LAFS_BENCH_MIB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 64 << 20
}

// randomBytes returns n bytes that do not compress, the same for a seed.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = r.Read(b)
	return b
}

// stamped is an io.ReaderAt over data whose first 8 bytes are replaced
// by seq: a file no upload has stored yet (a new convergent key, so a
// new storage index), without copying data.
type stamped struct {
	data []byte
	seq  uint64
}

func (s stamped) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	n := copy(p, s.data[off:])
	for i := off; i < 8 && i < off+int64(n); i++ {
		p[i-off] = byte(s.seq >> (8 * i))
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// processCPU is the CPU time (user and system, all threads) used by this
// process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f for each iteration of the benchmark and reports, beside
// the wall time, the process's CPU time per iteration (servers in
// process included), which a loaded machine disturbs less. The
// iterations run under the pprof label bench=<benchmark name>, which the
// goroutines they start inherit and the servers' goroutines do not: in
// a -cpuprofile, `go tool pprof -tagfocus bench=.` keeps the client's
// side of the timed work only, without setup or servers.
func loop(b *testing.B, f func(i int)) {
	b.ReportAllocs()
	start := processCPU()
	i := 0
	pprof.Do(context.Background(), pprof.Labels("bench", b.Name()), func(context.Context) {
		for b.Loop() {
			f(i)
			i++
		}
	})
	if cpu := processCPU() - start; cpu > 0 && i > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(i), "cpu-ms/op")
	}
}
