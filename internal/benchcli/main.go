// Command benchcli is `make bench-cli`: it measures the lafs and tahoe
// binaries of two revisions as whole processes, side by side on this
// machine, and prints a Markdown table of the figures, base beside new.
//
// Each round, for every measurement, it runs the base and the new
// binaries one after the other (base first in odd rounds, new first in
// even ones), so both share the machine's noise. The measurements, all
// 3-of-10: put and get on the embedded local grid (`tahoe create-client
// --local-grid=10`) and on 10 GBS storage nodes (`lafs grid up --servers
// 10`), each at the -sizes; put and get at the -rss-sizes on the local
// grid only (for peak RSS); `lafs cp -r` of -files files of 4 KiB into a
// new directory over GBS (files/s); `lafs ls` of that directory (ms, the
// median of -ls-runs). Every get is compared byte for byte with what was
// put. Wall time, peak RSS (the kernel's ru_maxrss of the child, what
// `/usr/bin/time -f %M` prints) and the client process's CPU time come
// from wait4. It also measures one core's SHA-256 rate with Go's
// crypto/sha256 (the same code the binaries hash with) in every round,
// and reads the load average at the start and the end.
//
// By default it builds the base from a git revision (-base, through `git
// archive`) and the new side from the working tree; -base-bin and
// -new-bin take directories of already built binaries instead. Grids and
// scratch files live under one temporary directory, removed on exit;
// every grid it brought up is taken down, on failure and on SIGINT or
// SIGTERM too.
//
// It owns no library code and no in-process benchmark (package bench and
// the packages' own Benchmark functions are `make bench`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// config is what the flags say.
type config struct {
	base, baseBin, newBin string
	rounds                int
	sizes, rssSizes       []int // MiB
	files, lsRuns         int
	work, out             string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "benchcli: interrupted; grids taken down, scratch files removed:", err)
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "benchcli: error:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line (exit status 2).
type usageError struct{ error }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var sizes, rss string
	fs := flag.NewFlagSet("benchcli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.base, "base", "main", "git `revision` to build as the baseline")
	fs.StringVar(&c.baseBin, "base-bin", "", "`dir`ectory of baseline binaries (lafs, tahoe) instead of building -base")
	fs.StringVar(&c.newBin, "new-bin", "", "`dir`ectory of new binaries instead of building the working tree")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds (base and new interleaved in each)")
	fs.StringVar(&sizes, "sizes", "64,256", "file sizes in MiB for put/get on both grids (comma-separated)")
	fs.StringVar(&rss, "rss-sizes", "1024", "more sizes in MiB, local grid only, mostly for peak RSS (\"\" for none)")
	fs.IntVar(&c.files, "files", 1000, "4 KiB files for cp -r over GBS (and entries for ls)")
	fs.IntVar(&c.lsRuns, "ls-runs", 5, "runs of lafs ls per round and side")
	fs.StringVar(&c.work, "work", os.TempDir(), "`dir`ectory for the scratch directory (needs about 4× the largest size ×2 free)")
	fs.StringVar(&c.out, "o", "", "also write the table to `file`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	var err error
	if c.sizes, err = parseSizes(sizes); err != nil {
		return c, usageError{fmt.Errorf("-sizes: %w", err)}
	}
	if c.rssSizes, err = parseSizes(rss); err != nil {
		return c, usageError{fmt.Errorf("-rss-sizes: %w", err)}
	}
	if c.rounds < 1 || c.files < 1 || c.lsRuns < 1 {
		return c, usageError{errors.New("-rounds, -files and -ls-runs must be at least 1")}
	}
	return c, nil
}

// parseSizes reads a comma-separated list of sizes in MiB ("" is none).
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 1<<16 {
			return nil, fmt.Errorf("%q is not a size in MiB (1 to 65536)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// run is the whole command: flags, builds, rounds, table.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.work, "benchcli-")
	if err != nil {
		return err
	}
	b := &bench{cfg: c, tmp: tmp, log: stderr, res: newResults()}
	defer func() {
		if cerr := b.cleanup(); err == nil {
			err = cerr
		}
	}()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	if err := b.rounds(ctx); err != nil {
		return err
	}
	table := b.report()
	if _, err := io.WriteString(stdout, table); err != nil {
		return err
	}
	if c.out != "" {
		return os.WriteFile(c.out, []byte(table), 0o644)
	}
	return nil
}
