package lafscmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// runTTY runs lafs -d NODE args as on a terminal of the given width
// (command.IO says so; System() sets these from the real streams).
func (n *testNode) runTTY(width int, args ...string) (string, string, int) {
	n.t.Helper()
	var out, errb bytes.Buffer
	stdio := &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb, OutTTY: true, Width: width}
	n.t.Chdir(n.cwd)
	code := Run(context.Background(), append([]string{"lafs", "-d", n.dir}, args...), stdio, noEnv)
	return out.String(), errb.String(), code
}

var linkedRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d`)

// TestTablesGolden pins the tables for people: on an 80-column terminal
// caps are cut with … to fit, --wide keeps them whole, sizes are human
// unless --bytes, names from the grid are escaped; piped, rows are
// tab-separated.
func TestTablesGolden(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	n.file("big.bin", strings.Repeat("x", 1500000))
	n.file("a.txt", "hi")
	n.ok("put", "big.bin", "a.txt", "home:")
	n.ok("put", "a.txt", "home:new\nline\x1b[31m")
	n.ok("mkdir", "home:sub")
	mask := func(s string) string {
		s = linkedRE.ReplaceAllString(s, "YYYY-MM-DD hh:mm")
		s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAllString(s, "TIME")
		return regexp.MustCompile(`URI:[A-Z0-9-]+:[a-z0-9:]+…?`).ReplaceAllStringFunc(s, func(c string) string {
			return "URI(" + strings.Repeat("*", len([]rune(c))-5) + ")"
		})
	}
	cases := []struct {
		name  string
		tty   bool
		width int
		args  []string
	}{
		{"ls-tty", true, 80, []string{"ls", "home:"}},
		{"ls-l-tty-80", true, 80, []string{"ls", "-l", "home:"}},
		{"ls-l-tty-bytes", true, 80, []string{"ls", "-l", "--bytes", "home:"}},
		{"ls-l-tty-wide", true, 80, []string{"ls", "-l", "--wide", "home:"}},
		{"ls-l-piped", false, 0, []string{"ls", "-l", "home:"}},
		{"ls-piped", false, 0, []string{"ls", "home:"}},
		{"alias-ls-tty", true, 60, []string{"alias", "ls"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out string
			if tc.tty {
				out, _, _ = n.runTTY(tc.width, tc.args...)
			} else {
				out = n.ok(tc.args...)
			}
			if tc.tty && !strings.Contains(tc.name, "wide") {
				for _, l := range strings.Split(out, "\n") {
					if w := len([]rune(l)); w > tc.width {
						t.Errorf("a line of %d columns on a %d-column terminal: %q", w, tc.width, l)
					}
				}
			}
			if strings.ContainsRune(out, 0x1b) {
				t.Errorf("ESC reached the output: %q", out)
			}
			golden(t, filepath.Join(wd, "testdata", "tables", tc.name+".golden"), mask(out))
		})
	}
}

// TestCatGuard: cat refuses binary data on a terminal (B26) unless
// --force, and writes it when piped.
func TestCatGuard(t *testing.T) {
	n := newTestNode(t)
	n.file("bin", "\x00\x01\x02binary")
	n.file("txt", "héllo text\n")
	n.ok("put", "bin", "txt", "home:")
	if out, errs, code := n.runTTY(80, "cat", "home:bin"); code != 1 || out != "" || !strings.Contains(errs, "binary output") || !strings.Contains(errs, "hint: use 'lafs cat --force'") {
		t.Fatalf("cat binary to a terminal: exit %d out %q err %q", code, out, errs)
	}
	if out, _, code := n.runTTY(80, "cat", "--force", "home:bin"); code != 0 || out != "\x00\x01\x02binary" {
		t.Fatalf("cat --force: exit %d %q", code, out)
	}
	if out, _, code := n.runTTY(80, "cat", "home:txt"); code != 0 || out != "héllo text\n" {
		t.Fatalf("cat text: exit %d %q", code, out)
	}
	if out := n.ok("cat", "home:bin", "home:txt"); out != "\x00\x01\x02binaryhéllo text\n" {
		t.Fatalf("cat piped: %q", out)
	}
}

// TestInterrupted: a run whose context is cancelled (SIGINT) says
// "interrupted", exits 130, and links nothing (B18).
func TestInterrupted(t *testing.T) {
	n := newTestNode(t)
	n.file("big.bin", strings.Repeat("y", 3<<20))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	n.t.Chdir(n.cwd)
	code := Run(ctx, []string{"lafs", "-d", n.dir, "put", "big.bin", "home:big.bin"}, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, noEnv)
	if code != 130 || errb.String() != "lafs: interrupted\n" {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if got := n.ok("ls", "home:"); got != "" {
		t.Fatalf("something was linked: %q", got)
	}
	// cp -r and backup (several files at once) end the same way.
	if err := os.MkdirAll(filepath.Join(n.cwd, "tree", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		n.file(filepath.Join("tree", "sub", "f"+strconv.Itoa(i)), strings.Repeat("z", 1000+i))
	}
	for _, args := range [][]string{{"cp", "-r", "tree", "home:tree"}, {"backup", "tree", "home:bk"}} {
		out.Reset()
		errb.Reset()
		code := Run(ctx, append([]string{"lafs", "-d", n.dir}, args...), &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, noEnv)
		if code != 130 || errb.String() != "lafs: interrupted\n" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
	if got := n.ok("ls", "home:"); got != "" {
		t.Fatalf("something was linked: %q", got)
	}
}

// TestGetToPipeShowsProgress: get to a piped stdout draws its progress on
// a terminal's stderr (the trial: "get … - never shows progress").
func TestGetToPipeShowsProgress(t *testing.T) {
	n := newTestNode(t)
	n.file("big.bin", strings.Repeat("p", 200000))
	c := strings.TrimSpace(n.ok("put", "big.bin"))
	var out, errb bytes.Buffer
	n.t.Chdir(n.cwd)
	code := Run(context.Background(), []string{"lafs", "-d", n.dir, "get", c}, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb, ErrTTY: true}, noEnv)
	if code != 0 || out.Len() != 200000 || !strings.Contains(errb.String(), "100%") {
		t.Fatalf("exit %d, %d bytes, stderr %q", code, out.Len(), errb.String())
	}
}
