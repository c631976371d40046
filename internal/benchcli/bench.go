package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The sides of every comparison.
const (
	sideBase = "base"
	sideNew  = "new"
)

// bench is one run of the driver.
type bench struct {
	cfg  config
	tmp  string // the scratch directory, removed by cleanup
	log  io.Writer
	res  *results
	bins map[string]string // side → directory holding lafs and tahoe
	// labels say what each side is (revision, directory).
	labels     map[string]string
	sha        []float64 // one core's SHA-256 rate per round, MiB per CPU-second
	shaWall    []float64 // the same in MiB per wall second
	loadStart  string
	loadEnd    string
	home       string   // HOME (and XDG_CONFIG_HOME) of every child
	files      []int    // the sizes with a source file, MiB
	gridsUp    []gridUp // grids to take down
	started    time.Time
	goVersion  string
	procs      int
	smallFiles string // the directory of 4 KiB files
}

// gridUp is a dev grid brought up by a side's lafs.
type gridUp struct{ lafs, dir string }

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.log, "benchcli: "+format+"\n", a...)
}

// prepare builds (or finds) both sides' binaries and writes the source
// files.
func (b *bench) prepare(ctx context.Context) error {
	b.started = time.Now()
	b.procs = runtime.NumCPU()
	b.goVersion = runtime.Version()
	b.loadStart = loadAverage()
	b.bins = map[string]string{}
	b.labels = map[string]string{}
	b.home = filepath.Join(b.tmp, "home")
	if err := os.MkdirAll(filepath.Join(b.home, ".config"), 0o700); err != nil {
		return err
	}
	for _, side := range []string{sideBase, sideNew} {
		dir, label, err := b.binaries(ctx, side)
		if err != nil {
			return fmt.Errorf("%s binaries: %w", side, err)
		}
		for _, name := range []string{"lafs", "tahoe"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("%s binaries: %w", side, err)
			}
		}
		b.bins[side], b.labels[side] = dir, label
	}
	sizes := append(append([]int{}, b.cfg.sizes...), b.cfg.rssSizes...)
	slices.Sort(sizes)
	b.files = slices.Compact(sizes)
	for _, mib := range b.files {
		if err := writeRandom(b.source(mib), int64(mib)<<20); err != nil {
			return err
		}
	}
	b.smallFiles = filepath.Join(b.tmp, "small")
	if err := os.Mkdir(b.smallFiles, 0o755); err != nil {
		return err
	}
	for i := 0; i < b.cfg.files; i++ {
		if err := writeRandom(filepath.Join(b.smallFiles, fmt.Sprintf("f%05d", i)), 4096); err != nil {
			return err
		}
	}
	return nil
}

// binaries returns the directory of a side's binaries and a label,
// building them when no directory was given.
func (b *bench) binaries(ctx context.Context, side string) (dir, label string, err error) {
	given := b.cfg.baseBin
	if side == sideNew {
		given = b.cfg.newBin
	}
	if given != "" {
		abs, err := filepath.Abs(given)
		if err != nil {
			return "", "", err
		}
		v, _ := b.output(ctx, filepath.Join(abs, "lafs"), "version")
		first, _, _ := strings.Cut(strings.TrimSpace(string(v)), "\n")
		return abs, fmt.Sprintf("binaries in %s (%s)", abs, first), nil
	}
	top, err := b.output(ctx, "git", "rev-parse", "--show-toplevel")
	if err != nil {
		return "", "", fmt.Errorf("not in a git checkout: %w", err)
	}
	root := strings.TrimSpace(string(top))
	out := filepath.Join(b.tmp, side+"-bin")
	if side == sideNew {
		desc, err := b.output(ctx, "git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12")
		if err != nil {
			return "", "", err
		}
		rev := strings.TrimSpace(string(desc))
		b.logf("building the working tree (%s)", rev)
		return out, "the working tree at " + rev, goBuild(ctx, root, out, rev)
	}
	sha, err := b.output(ctx, "git", "-C", root, "rev-parse", "--verify", b.cfg.base+"^{commit}")
	if err != nil {
		return "", "", fmt.Errorf("-base %s: %w", b.cfg.base, err)
	}
	rev := strings.TrimSpace(string(sha))
	src := filepath.Join(b.tmp, "src-base")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", "", err
	}
	b.logf("building %s (%s)", b.cfg.base, rev[:12])
	if err := gitArchive(ctx, root, rev, src); err != nil {
		return "", "", err
	}
	return out, fmt.Sprintf("%s (%s)", b.cfg.base, rev[:12]), goBuild(ctx, src, out, rev[:12])
}

// gitArchive extracts revision rev of the repository at root into dir.
func gitArchive(ctx context.Context, root, rev, dir string) error {
	archive := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	var errs bytes.Buffer
	archive.Stderr, untar.Stderr = &errs, &errs
	if err := untar.Start(); err != nil {
		return err
	}
	aerr := archive.Run()
	uerr := untar.Wait()
	if err := errors.Join(aerr, uerr); err != nil {
		return fmt.Errorf("git archive %s: %w\n%s", rev, err, errs.Bytes())
	}
	return nil
}

// goBuild builds both binaries of the module at src into out.
func goBuild(ctx context.Context, src, out, rev string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X github.com/lafs/lafs/internal/version.Revision="+rev,
		"-o", out+string(filepath.Separator), "./cmd/tahoe", "./cmd/lafs")
	cmd.Dir = src
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", src, err, msg)
	}
	return nil
}

func (b *bench) source(mib int) string {
	return filepath.Join(b.tmp, fmt.Sprintf("src-%dMiB.bin", mib))
}

// rounds runs every round, then reads the load average again.
func (b *bench) rounds(ctx context.Context) error {
	for r := 1; r <= b.cfg.rounds; r++ {
		if err := b.round(ctx, r); err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
	}
	b.loadEnd = loadAverage()
	return nil
}

// round is one round: every measurement, both sides back to back.
func (b *bench) round(ctx context.Context, r int) error {
	order := []string{sideBase, sideNew}
	if r%2 == 0 {
		slices.Reverse(order)
	}
	rate, wall := sha256Rate(256)
	b.sha, b.shaWall = append(b.sha, rate), append(b.shaWall, wall)
	b.logf("round %d of %d (%s first); SHA-256 one core %.0f MiB/s (wall %.0f MiB/s); load %s", r, b.cfg.rounds, order[0], rate, wall, loadAverage())
	for _, mib := range b.files {
		for _, side := range order {
			if err := b.local(ctx, side, mib); err != nil {
				return fmt.Errorf("%s, local grid, %d MiB: %w", side, mib, err)
			}
		}
	}
	grids := map[string]string{}
	for _, side := range order {
		g := filepath.Join(b.tmp, fmt.Sprintf("grid-%s-%d", side, r))
		if err := b.gridUp(ctx, side, g); err != nil {
			return fmt.Errorf("%s: %w", side, err)
		}
		grids[side] = filepath.Join(g, "client")
	}
	for _, mib := range b.cfg.sizes {
		for _, side := range order {
			if err := b.putGet(ctx, side, "gbs10", grids[side], mib); err != nil {
				return fmt.Errorf("%s, 10 GBS servers, %d MiB: %w", side, mib, err)
			}
		}
	}
	for _, side := range order {
		if err := b.copyTree(ctx, side, grids[side]); err != nil {
			return fmt.Errorf("%s, cp -r: %w", side, err)
		}
	}
	for _, side := range order {
		if err := b.list(ctx, side, grids[side]); err != nil {
			return fmt.Errorf("%s, ls: %w", side, err)
		}
	}
	return b.gridsDown()
}

// local measures put and get of mib MiB on a fresh embedded local grid.
func (b *bench) local(ctx context.Context, side string, mib int) error {
	dir := filepath.Join(b.tmp, "local-"+side)
	if _, err := b.exec(ctx, b.bin(side, "tahoe"), "create-client", "--local-grid=10", dir); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return b.putGet(ctx, side, "local", dir, mib)
}

// putGet puts the mib-MiB source file through node directory nodeDir,
// gets it back and compares the two.
func (b *bench) putGet(ctx context.Context, side, grid, nodeDir string, mib int) error {
	lafs := b.bin(side, "lafs")
	src := b.source(mib)
	put, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "put", src)
	if err != nil {
		return err
	}
	c := strings.TrimSpace(string(put.stdout))
	if !strings.HasPrefix(c, "URI:CHK:") {
		return fmt.Errorf("put printed %q, not a CHK cap", c)
	}
	out := filepath.Join(b.tmp, "got.bin")
	defer os.Remove(out)
	get, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "get", c, out)
	if err != nil {
		return err
	}
	if err := sameFile(src, out); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	size := sizeName(mib)
	for _, m := range []struct {
		op string
		o  outcome
	}{{"put", put}, {"get", get}} {
		name := fmt.Sprintf("%s %s %s", grid, m.op, size)
		b.res.add(sectionSpeed, name, "MiB/s", side, float64(mib)/m.o.wall.Seconds())
		b.res.add(sectionRSS, name, "MiB", side, float64(m.o.rssKiB)/1024)
		b.res.add(sectionCPU, name, "s", side, m.o.cpu.Seconds())
	}
	b.logf("%-4s %-5s %-8s put %6.1f MiB/s %5.0f MiB RSS; get %6.1f MiB/s %5.0f MiB RSS", side, grid, size,
		float64(mib)/put.wall.Seconds(), float64(put.rssKiB)/1024, float64(mib)/get.wall.Seconds(), float64(get.rssKiB)/1024)
	return nil
}

// gridUp brings up 10 GBS storage nodes, 3-of-10, happy 7.
func (b *bench) gridUp(ctx context.Context, side, dir string) error {
	lafs := b.bin(side, "lafs")
	b.gridsUp = append(b.gridsUp, gridUp{lafs, dir})
	_, err := b.exec(ctx, lafs, "-q", "grid", "up", "--servers", "10", "--needed", "3", "--happy", "7", "--total", "10", dir)
	return err
}

// gridsDown takes every grid down and removes it.
func (b *bench) gridsDown() error {
	var errs []error
	for _, g := range b.gridsUp {
		// A fresh context: this also runs after an interrupt.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := b.exec(ctx, g.lafs, "-q", "grid", "down", g.dir); err != nil {
			errs = append(errs, err)
		}
		cancel()
		errs = append(errs, os.RemoveAll(g.dir))
	}
	b.gridsUp = nil
	return errors.Join(errs...)
}

// copyTree copies the small files into a new directory over GBS and
// checks that they arrived.
func (b *bench) copyTree(ctx context.Context, side, nodeDir string) error {
	lafs := b.bin(side, "lafs")
	if _, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "alias", "add", "bench"); err != nil {
		return err
	}
	cp, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "cp", "-r", b.smallFiles, "bench:small")
	if err != nil {
		return err
	}
	out := filepath.Join(b.tmp, "got-small")
	defer os.Remove(out)
	if _, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "get", "bench:small/f00000", out); err != nil {
		return err
	}
	if err := sameFile(filepath.Join(b.smallFiles, "f00000"), out); err != nil {
		return fmt.Errorf("get bench:small/f00000: %w", err)
	}
	rate := float64(b.cfg.files) / cp.wall.Seconds()
	b.res.add(sectionSpeed, fmt.Sprintf("gbs10 cp -r, %d × 4 KiB", b.cfg.files), "files/s", side, rate)
	b.res.add(sectionCPU, fmt.Sprintf("gbs10 cp -r, %d × 4 KiB", b.cfg.files), "s", side, cp.cpu.Seconds())
	b.logf("%-4s gbs10 cp -r %d files: %.1f files/s", side, b.cfg.files, rate)
	return nil
}

// list runs lafs ls of the copied directory -ls-runs times.
func (b *bench) list(ctx context.Context, side, nodeDir string) error {
	lafs := b.bin(side, "lafs")
	name := fmt.Sprintf("gbs10 ls, %d entries", b.cfg.files)
	for i := 0; i < b.cfg.lsRuns; i++ {
		ls, err := b.exec(ctx, lafs, "-q", "-d", nodeDir, "ls", "bench:small")
		if err != nil {
			return err
		}
		if n := bytes.Count(ls.stdout, []byte("\n")); n != b.cfg.files {
			return fmt.Errorf("ls listed %d names, want %d", n, b.cfg.files)
		}
		b.res.add(sectionSpeed, name, "ms", side, float64(ls.wall.Microseconds())/1000)
	}
	b.logf("%-4s gbs10 ls %d entries: %.1f ms (median of %d)", side, b.cfg.files, median(b.res.samples(name, side)), b.cfg.lsRuns)
	return nil
}

func (b *bench) bin(side, name string) string { return filepath.Join(b.bins[side], name) }

// cleanup takes down any grid still up and removes the scratch directory.
func (b *bench) cleanup() error {
	err := b.gridsDown()
	return errors.Join(err, os.RemoveAll(b.tmp))
}

// outcome is what a finished child process measured.
type outcome struct {
	wall, cpu time.Duration
	rssKiB    int64
	stdout    []byte
}

// exec runs a command to completion with a scratch HOME and no lafs
// preferences from the environment, and reports its wall time, CPU time
// and peak RSS.
func (b *bench) exec(ctx context.Context, name string, args ...string) (outcome, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = childEnv(b.home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	o := outcome{wall: time.Since(start), stdout: stdout.Bytes()}
	if err != nil {
		return o, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.rssKiB = ru.Maxrss
	}
	o.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return o, nil
}

// output runs a command and returns its standard output.
func (b *bench) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	o, err := b.exec(ctx, name, args...)
	return o.stdout, err
}

// childEnv is the environment without LAFS_* and with HOME and
// XDG_CONFIG_HOME set to home.
func childEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LAFS_") || k == "HOME" || k == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
}

// writeRandom writes size random bytes to path.
func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// sameFile says whether two files hold the same bytes (an error if not).
func sameFile(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("%s and %s differ at or after byte %d", a, b, off)
		}
		off += int64(na)
		aEnd := ea == io.EOF || ea == io.ErrUnexpectedEOF
		bEnd := eb == io.EOF || eb == io.ErrUnexpectedEOF
		switch {
		case ea != nil && !aEnd:
			return ea
		case eb != nil && !bEnd:
			return eb
		case aEnd && bEnd:
			return nil
		case aEnd != bEnd:
			return fmt.Errorf("%s and %s differ in length (%d bytes in common)", a, b, off)
		}
	}
}

// sha256Rate hashes mib MiB on one goroutine locked to its thread and
// returns MiB per second of that thread's CPU time (one core's rate,
// which other processes on the machine do not lower) and MiB per second
// of wall time. One core's rate is the floor of put (6.33× the file is
// hashed) and get (3×).
func sha256Rate(mib int) (cpuRate, wallRate float64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 1<<20)
	_, _ = rand.Read(buf)
	h := sha256.New()
	cpu0, start := threadCPU(), time.Now()
	for i := 0; i < mib; i++ {
		h.Write(buf)
	}
	h.Sum(nil)
	wall, cpu := time.Since(start), threadCPU()-cpu0
	if cpu <= 0 {
		cpu = wall
	}
	return float64(mib) / cpu.Seconds(), float64(mib) / wall.Seconds()
}

// threadCPU is the CPU time of the calling thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// loadAverage is the load average as uptime prints it ("1.02, 0.80,
// 0.75"), or what went wrong.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		out, err := exec.Command("uptime").Output()
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return strings.TrimSpace(string(out))
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], ", ")
}

// sizeName writes a size in MiB as "64 MiB" or "1 GiB".
func sizeName(mib int) string {
	if mib >= 1024 && mib%1024 == 0 {
		return strconv.Itoa(mib/1024) + " GiB"
	}
	return strconv.Itoa(mib) + " MiB"
}
