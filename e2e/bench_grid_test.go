package e2e

import (
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// benchFileSize is the file size of the put/get benchmarks (default 256 MiB;
// LAFS_BENCH_MIB overrides it).
func benchFileSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("LAFS_BENCH_MIB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 256 << 20
}

func writeRandomFile(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
}

// run executes a command and returns its peak RSS in KiB.
func run(b *testing.B, name string, args ...string) int64 {
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

func output(b *testing.B, name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		b.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// BenchmarkPutGet measures `lafs put` and `lafs get` of one file on the
// embedded local grid and over 10 GBS servers on loopback, with `cp` of the
// same file as the machine's baseline in the same run; peak RSS is
// reported per process.
func BenchmarkPutGet(b *testing.B) {
	size := benchFileSize()
	dir := b.TempDir()
	src := filepath.Join(dir, "src.bin")
	writeRandomFile(b, src, size)
	lafs := command(b, "lafs")

	b.Run("baseline-cp", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			run(b, "cp", src, filepath.Join(dir, "copy.bin"))
		}
	})

	local := filepath.Join(dir, "local")
	run(b, command(b, "tahoe"), "create-client", "--local-grid", "10", local)
	grid := filepath.Join(dir, "grid")
	run(b, lafs, "grid", "up", "--servers", "10", "--needed", "3", "--happy", "7", "--total", "10", grid)
	defer run(b, lafs, "grid", "down", grid)

	for _, g := range []struct{ name, node string }{{"local", local}, {"gbs-10", filepath.Join(grid, "client")}} {
		var capStr string
		b.Run(g.name+"-put", func(b *testing.B) {
			b.SetBytes(size)
			var rss int64
			for b.Loop() {
				rss = max(rss, run(b, lafs, "-q", "-d", g.node, "put", src))
			}
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
		})
		capStr = output(b, lafs, "-q", "-d", g.node, "put", "--dry-run", src)
		b.Run(g.name+"-get", func(b *testing.B) {
			b.SetBytes(size)
			var rss int64
			for b.Loop() {
				out := filepath.Join(dir, "out.bin")
				rss = max(rss, run(b, lafs, "-q", "-d", g.node, "get", "--force", capStr, out))
			}
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
		})
	}
}

// BenchmarkStatus20 measures `lafs status` on a grid of 20 GBS servers.
func BenchmarkStatus20(b *testing.B) {
	dir := b.TempDir()
	lafs := command(b, "lafs")
	run(b, lafs, "grid", "up", "--servers", "20", dir)
	defer run(b, lafs, "grid", "down", dir)
	for b.Loop() {
		run(b, lafs, "-d", filepath.Join(dir, "client"), "status", "--json")
	}
}
