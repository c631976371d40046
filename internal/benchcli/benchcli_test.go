package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"64", []int{64}, false},
		{"64, 256,1024", []int{64, 256, 1024}, false},
		{"64,,256", []int{64, 256}, false},
		{"0", nil, true},
		{"-3", nil, true},
		{"1G", nil, true},
		{"99999", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSizes(tc.in)
			if (err != nil) != tc.err || !equalInts(got, tc.want) {
				t.Fatalf("parseSizes(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseFlagsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-rounds", "0"},
		{"-files", "-1"},
		{"-sizes", "x"},
		{"-rss-sizes", "1,a"},
		{"extra"},
		{"-nosuchflag"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	c, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil || c.base != "main" || c.rounds != 3 || !equalInts(c.sizes, []int{64, 256}) || !equalInts(c.rssSizes, []int{1024}) || c.files != 1000 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

func TestMedianCell(t *testing.T) {
	for _, tc := range []struct {
		xs     []float64
		median float64
		cell   string
	}{
		{nil, 0, "—"},
		{[]float64{5}, 5, "5.00"},
		{[]float64{300, 100, 200}, 200, "200 (100–300)"},
		{[]float64{4, 1, 3, 2}, 2.5, "2.50 (1.00–4.00)"},
		{[]float64{12.34, 56.78}, 34.56, "34.6 (12.3–56.8)"},
	} {
		if m := median(tc.xs); m != tc.median {
			t.Errorf("median(%v) = %v, want %v", tc.xs, m, tc.median)
		}
		if c := cell(tc.xs); c != tc.cell {
			t.Errorf("cell(%v) = %q, want %q", tc.xs, c, tc.cell)
		}
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // over 3 MiB: several reads
	other := bytes.Clone(big)
	other[len(other)-1] ^= 1
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, same, diff, short, empty := write("a", big), write("same", big), write("diff", other), write("short", big[:1<<20]), write("empty", nil)
	for _, tc := range []struct {
		name string
		x, y string
		ok   bool
	}{
		{"equal", a, same, true},
		{"last byte differs", a, diff, false},
		{"prefix", a, short, false},
		{"prefix the other way", short, a, false},
		{"empty and empty", empty, empty, true},
		{"empty and not", empty, a, false},
		{"missing", a, filepath.Join(dir, "missing"), false},
	} {
		if err := sameFile(tc.x, tc.y); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestSHA256Rate(t *testing.T) {
	cpu, wall := sha256Rate(16)
	// Any machine this runs on hashes faster than 10 MiB/s per core, and
	// a thread's CPU time never exceeds the wall time it spans.
	if cpu < 10 || wall <= 0 || cpu < wall*0.99 {
		t.Fatalf("SHA-256: %.1f MiB/s of CPU, %.1f MiB/s of wall", cpu, wall)
	}
}

func TestReportGolden(t *testing.T) {
	b := &bench{
		cfg:       config{rounds: 3},
		res:       newResults(),
		labels:    map[string]string{sideBase: "main (0123456789ab)", sideNew: "the working tree at 0123456789ab-dirty"},
		sha:       []float64{1400, 1450, 1500},
		shaWall:   []float64{1300, 1420, 1490},
		loadStart: "1.00, 0.90, 0.80",
		loadEnd:   "1.50, 1.00, 0.85",
		started:   time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		procs:     2,
		goVersion: "go1.26.0",
	}
	for i, v := range []float64{50, 55, 60} {
		b.res.add(sectionSpeed, "local put 64 MiB", "MiB/s", sideBase, v)
		b.res.add(sectionSpeed, "local put 64 MiB", "MiB/s", sideNew, 2*v)
		b.res.add(sectionRSS, "local put 64 MiB", "MiB", sideBase, 60+float64(i))
		b.res.add(sectionRSS, "local put 64 MiB", "MiB", sideNew, 40)
		b.res.add(sectionSpeed, "gbs10 ls, 1000 entries", "ms", sideBase, 100+float64(i))
		b.res.add(sectionSpeed, "gbs10 ls, 1000 entries", "ms", sideNew, 20)
		b.res.add(sectionCPU, "local put 64 MiB", "s", sideBase, 1.5)
	}
	got := b.report()
	// The run's duration is the only part that depends on the clock.
	got = strings.Replace(got, "; "+time.Since(b.started).Round(time.Second).String()+"\n", "; DURATION\n", 1)
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("report differs from %s (go test -update to rewrite):\n%s", golden, got)
	}
}

// buildCLIs builds this checkout's lafs and tahoe once for the tests
// that run the driver, into a directory removed by TestMain.
func buildCLIs(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binaries and runs grids")
	}
	bin, err := built()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var built = sync.OnceValues(func() (string, error) {
	bin, err := os.MkdirTemp("", "benchcli-test-bin-")
	if err != nil {
		return "", err
	}
	binDirs = append(binDirs, bin)
	cmd := exec.Command("go", "build", "-o", bin+"/", "../../cmd/tahoe", "../../cmd/lafs")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

// binDirs are the directories built made, removed by TestMain.
var binDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range binDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// processesUnder lists the processes whose command line names dir.
func processesUnder(dir string) []string {
	var out []string
	m, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			out = append(out, p+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestRunSmall runs the whole driver at the smallest settings, both sides
// the same binaries, and checks the table and that nothing is left behind.
func TestRunSmall(t *testing.T) {
	bin := buildCLIs(t)
	work := t.TempDir()
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"-base-bin", bin, "-new-bin", bin, "-rounds", "1", "-sizes", "1", "-rss-sizes", "2",
		"-files", "3", "-ls-runs", "2", "-work", work}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.Bytes())
	}
	for _, row := range []string{
		"| local put 1 MiB | MiB/s |", "| local get 2 MiB | MiB/s |", "| gbs10 put 1 MiB | MiB/s |", "| gbs10 get 1 MiB | MiB/s |",
		"| gbs10 cp -r, 3 × 4 KiB | files/s |", "| gbs10 ls, 3 entries | ms |", "| local put 2 MiB | MiB |", "SHA-256, one core",
	} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("no %q in\n%s", row, out.Bytes())
		}
	}
	if strings.Contains(out.String(), "| — |") {
		t.Errorf("a side is missing a measurement:\n%s", out.Bytes())
	}
	assertClean(t, work)
}

// TestRunFailureCleansUp: when the new side's cp fails with a grid up,
// the driver says so, takes both grids down and removes its files.
func TestRunFailureCleansUp(t *testing.T) {
	bin := buildCLIs(t)
	broken := t.TempDir()
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = cp ] && { echo 'injected failure' >&2; exit 3; }; done\nexec " + bin + "/lafs \"$@\"\n"
	if err := os.WriteFile(filepath.Join(broken, "lafs"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(bin, "tahoe"), filepath.Join(broken, "tahoe")); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	var out, log bytes.Buffer
	err := run(context.Background(), []string{"-base-bin", bin, "-new-bin", broken, "-rounds", "1", "-sizes", "1", "-rss-sizes", "",
		"-files", "2", "-ls-runs", "1", "-work", work}, &out, &log)
	if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "new, cp -r") {
		t.Fatalf("run: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("a table after a failure:\n%s", out.Bytes())
	}
	assertClean(t, work)
}

func assertClean(t *testing.T, work string) {
	t.Helper()
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("left in %s: %v", work, left)
	}
	if ps := processesUnder(work); len(ps) != 0 {
		t.Errorf("processes still running:\n%s", strings.Join(ps, "\n"))
	}
}
