package lafscmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/devgrid"
)

// TestGridUpRefusesUpFront: every request 'grid up' cannot carry out is a
// usage error (exit 2) before anything is made or started, and leaves the
// directory as it was.
func TestGridUpRefusesUpFront(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string) // makes the directory's contents
		args  []string
		want  string // in stderr
	}{
		{"non-empty directory that is not a grid", func(d string) {
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "notes.txt"), []byte("mine"), 0o644)
		}, nil, "not empty"},
		{"directory holding only a hidden file", func(d string) { os.MkdirAll(d, 0o755); os.WriteFile(filepath.Join(d, ".x"), nil, 0o644) }, nil, "not empty"},
		{"directory holding a client only", func(d string) { os.MkdirAll(filepath.Join(d, "client"), 0o755) }, nil, "not empty"},
		{"a file, not a directory", func(d string) { os.WriteFile(d, []byte("x"), 0o644) }, nil, "not a directory"},
		{"needed more than total", nil, []string{"--needed", "6", "--total", "5"}, "more than --total"},
		{"needed far more than total", nil, []string{"--needed", "200", "--happy", "1", "--total", "3"}, "more than --total"},
		{"zero needed", nil, []string{"--needed", "0"}, "--needed 0"},
		{"negative needed", nil, []string{"--needed", "-1"}, "--needed -1"},
		{"total over 256", nil, []string{"--total", "257"}, "--total 257"},
		{"happy over total", nil, []string{"--happy", "6", "--total", "5"}, "--happy 6"},
		{"zero happy", nil, []string{"--happy", "0"}, "--happy 0"},
		{"zero servers", nil, []string{"--servers", "0"}, "--servers 0"},
		{"negative servers", nil, []string{"--servers", "-3"}, "--servers -3"},
		{"too many servers", nil, []string{"--servers", "100"}, "--servers 100"},
		{"reserved space not a size", nil, []string{"--reserved-space", "lots"}, "not a size"},
		{"reserved space with a bad unit", nil, []string{"--reserved-space", "10Q"}, "not a size"},
		{"reserved space negative", nil, []string{"--reserved-space", "-1G"}, "not a size"},
		{"reserved space empty number", nil, []string{"--reserved-space", "G"}, "not a size"},
		{"not a number", nil, []string{"--servers", "many"}, "many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "grid")
			if c.setup != nil {
				c.setup(dir)
			}
			before := listing(dir)
			var out, errb bytes.Buffer
			args := append(append([]string{"lafs", "grid", "up"}, c.args...), dir)
			code := Run(context.Background(), args, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, func(string) string { return "" })
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), c.want) {
				t.Fatalf("stderr %q, want %q in it", errb.String(), c.want)
			}
			if after := listing(dir); after != before {
				t.Fatalf("the directory changed: %q -> %q", before, after)
			}
		})
	}
}

// listing names everything under dir (or says what dir is not).
func listing(dir string) string {
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			names = append(names, "!"+err.Error())
			return nil
		}
		names = append(names, p)
		return nil
	})
	return strings.Join(names, "\n")
}

// TestGridStatusGolden pins 'lafs grid status' on a grid whose nodes are
// stopped, with shares on one node's disk: a table on an 80-column
// terminal (ids cut with …), tab-separated rows piped, one JSON object
// per node with every field in docs/json.md; uploads still in incoming
// are not counted.
func TestGridStatusGolden(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "grid")
	if err := devgrid.Create(dir, devgrid.Options{Servers: 3, Needed: 2, Happy: 2, Total: 3}); err != nil {
		t.Fatal(err)
	}
	shares := filepath.Join(devgrid.NodeDir(dir, 1), "storage", "shares")
	for name, size := range map[string]int{
		"aa/aaaaaaaaaaaaaaaaaaaaaaaaaa/0": 1000, "aa/aaaaaaaaaaaaaaaaaaaaaaaaaa/3": 2500, "bq/bqaaaaaaaaaaaaaaaaaaaaaaaa/1": 100,
		"incoming/aa/aaaaaaaaaaaaaaaaaaaaaaaaab/2": 777,
	} {
		p := filepath.Join(shares, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{1}, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mask := func(s string) string {
		s = strings.ReplaceAll(s, dir, "GRID")
		s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "127.0.0.1:PORT")
		return regexp.MustCompile(`v0-[a-z2-7]+…?`).ReplaceAllStringFunc(s, func(id string) string {
			return "v0-" + strings.Repeat("*", len([]rune(id))-3)
		})
	}
	run := func(tty bool, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		stdio := &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb, OutTTY: tty, Width: 80}
		if code := Run(context.Background(), append([]string{"lafs", "grid", "status"}, args...), stdio, noEnv); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	tty := run(true, dir)
	for _, l := range strings.Split(strings.TrimSpace(tty), "\n") {
		if n := len([]rune(l)); n > 80 && !strings.HasPrefix(l, "0 of 3") {
			t.Errorf("a %d-column line on an 80-column terminal: %q", n, l)
		}
	}
	golden(t, filepath.Join(wd, "testdata", "tables", "grid-status-tty.golden"), mask(tty))
	golden(t, filepath.Join(wd, "testdata", "tables", "grid-status-piped.golden"), mask(run(false, dir)))
	js := run(false, "--json", dir)
	golden(t, filepath.Join(wd, "testdata", "json", "grid-status.golden"), mask(js))
	vocab, seen := vocabulary(t), map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(js), "\n") {
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not one JSON value a line: %q", line)
		}
		keys(v, seen)
	}
	for k := range seen {
		if !vocab[k] {
			t.Errorf("field %q is printed but not in docs/json.md", k)
		}
	}
	// No grid there: exit 1 with a hint.
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"lafs", "grid", "status", t.TempDir()}, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, noEnv); code != 1 || !strings.Contains(errb.String(), "holds no grid") || !strings.Contains(errb.String(), "hint: make one with 'lafs grid up") {
		t.Fatalf("no grid: exit %d %q", code, errb.String())
	}
}

// TestEncodingFor: a new grid's client encoding follows --servers (B22):
// Tahoe's 3-of-10, happy 7 from ten servers up; below, every share on its
// own server.
func TestEncodingFor(t *testing.T) {
	for _, c := range []struct{ servers, k, happy, n int }{
		{1, 1, 1, 1}, {2, 1, 1, 2}, {3, 1, 2, 3}, {4, 2, 3, 4}, {5, 3, 4, 5}, {9, 5, 8, 9}, {10, 3, 7, 10}, {20, 3, 7, 10},
	} {
		k, h, n := encodingFor(c.servers)
		if k != c.k || h != c.happy || n != c.n {
			t.Errorf("%d servers: %d-of-%d happy %d, want %d-of-%d happy %d", c.servers, k, n, h, c.k, c.n, c.happy)
		}
	}
}
