package lafscmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/cmd/tahoe/tahoecmd"
	"github.com/lafs/lafs/internal/command"
)

// testNode is a client node directory with an embedded grid of 4 servers
// and an alias "home" (made by tahoe), and a working directory for local
// files.
type testNode struct {
	t        *testing.T
	dir, cwd string
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	n := &testNode{t: t, dir: filepath.Join(t.TempDir(), "node"), cwd: t.TempDir()}
	for _, args := range [][]string{
		{"tahoe", "create-client", "--local-grid", "4", "--shares-needed", "2", "--shares-happy", "3", "--shares-total", "4", n.dir},
		{"tahoe", "-d", n.dir, "create-alias", "home"},
	} {
		var errb bytes.Buffer
		if code := tahoecmd.Run(context.Background(), args, &command.IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errb}); code != 0 {
			t.Fatalf("%v: %s", args, errb.String())
		}
	}
	return n
}

// noEnv is an environment with no preferences.
func noEnv(string) string { return "" }

// run runs lafs -d NODE args (in n.cwd) and returns stdout, stderr and the
// exit status.
func (n *testNode) run(args ...string) (string, string, int) {
	n.t.Helper()
	var out, errb bytes.Buffer
	stdio := &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	n.t.Chdir(n.cwd)
	code := Run(context.Background(), append([]string{"lafs", "-d", n.dir}, args...), stdio, noEnv)
	return out.String(), errb.String(), code
}

func (n *testNode) ok(args ...string) string {
	n.t.Helper()
	out, errs, code := n.run(args...)
	if code != 0 {
		n.t.Fatalf("lafs %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

func (n *testNode) file(name, data string) {
	if err := os.WriteFile(filepath.Join(n.cwd, name), []byte(data), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

func (n *testNode) factory() (*command.Factory, *bytes.Buffer) {
	var out bytes.Buffer
	f := NewFactory(&command.IO{In: strings.NewReader(""), Out: &out, Err: &bytes.Buffer{}}, noEnv)
	f.NodeDirFlag = n.dir
	n.t.Cleanup(func() { f.Close() })
	return f, &out
}

// TestPutAndCpAgreeOnLocations is the review's inconsistency: put and cp
// read "foo:bar" the same way, Tahoe's way.
func TestPutAndCpAgreeOnLocations(t *testing.T) {
	n := newTestNode(t)
	n.file("a", "aaa")
	cases := []struct {
		name string
		args []string
		code int
		errs string
	}{
		{"put to an unknown alias", []string{"put", "a", "foo:bar"}, 1, "Unknown alias 'foo'"},
		{"cp to an unknown alias", []string{"cp", "a", "foo:bar"}, 1, "Unknown alias 'foo'"},
		{"put to a known alias", []string{"put", "a", "home:bar"}, 0, ""},
		{"cp to a known alias", []string{"cp", "-f", "a", "home:bar2"}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := n.run(tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.errs) {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
		})
	}
	// Neither wrote a local file named foo:bar.
	if _, err := os.Stat(filepath.Join(n.cwd, "foo:bar")); err == nil {
		t.Fatal("a local file foo:bar was written")
	}
	if got := n.ok("ls", "home:"); got != "bar\nbar2\n" {
		t.Fatalf("ls home: %q", got)
	}
	// A local name with a colon is written ./name, by both.
	n.ok("cp", "home:bar", "./x:y")
	n.ok("put", "./x:y", "home:")
	if got := n.ok("ls", "home:"); got != "bar\nbar2\nx:y\n" {
		t.Fatalf("ls home: %q", got)
	}
}

func TestPutIntoDirectoryAndGetByPath(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	n.file("a.txt", "first")
	n.file("b.txt", "second")
	n.ok("mkdir", "-p", "home:p/q")
	f, out := n.factory()
	if err := runPut(ctx, f, putOptions{Args: []string{"a.txt", "b.txt", "home:p/q/"}}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "a.txt: URI:LIT:") {
		t.Fatalf("put printed %q", out)
	}
	out.Reset()
	if err := runGet(ctx, f, getOptions{From: "home:p/q/b.txt"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "second" {
		t.Fatalf("get printed %q", out)
	}
	// get never clobbers without --force.
	n.file("exists", "keep")
	if _, errs, code := n.run("get", "home:p/q/a.txt", "exists"); code != 1 || !strings.Contains(errs, "file exists") {
		t.Fatalf("get onto a file: exit %d %q", code, errs)
	}
}

func TestMvRmMkdir(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	f, out := n.factory()
	if err := runMkdir(ctx, f, mkdirOptions{Path: "home:x/y", Parents: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "URI:DIR2:") {
		t.Fatalf("mkdir printed %q", out)
	}
	if err := runMkdir(ctx, f, mkdirOptions{Path: "home:x/y/z/w"}); err == nil {
		t.Fatal("mkdir without -p made parents")
	}
	if err := runMv(ctx, f, mvOptions{From: "home:x/y", To: "home:"}); err != nil {
		t.Fatal(err)
	}
	if err := runMv(ctx, f, mvOptions{From: "home:y", To: "home:y"}); err == nil {
		t.Fatal("mv of a directory onto itself (so into itself) worked")
	}
	if err := runMv(ctx, f, mvOptions{From: "home:x", To: "home:x/sub"}); err == nil {
		t.Fatal("mv a directory below itself worked")
	}
	if err := runRm(ctx, f, rmOptions{Paths: []string{"home:y"}}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("rm of a directory without -r: %v", err)
	}
	if err := runRm(ctx, f, rmOptions{Paths: []string{"home:y", "home:x"}, Recursive: true}); err != nil {
		t.Fatal(err)
	}
	if got := n.ok("ls", "home:"); got != "" {
		t.Fatalf("ls after rm: %q", got)
	}
}

// TestCpToStdout: '-' is standard output for cp as for get (B25).
func TestCpToStdout(t *testing.T) {
	n := newTestNode(t)
	n.file("a.txt", "to stdout")
	n.ok("cp", "a.txt", "home:a.txt")
	if got := n.ok("cp", "home:a.txt", "-"); got != "to stdout" {
		t.Fatalf("cp to - printed %q", got)
	}
	if _, err := os.Stat(filepath.Join(n.cwd, "-")); err == nil {
		t.Fatal("cp wrote a local file named -")
	}
}

// TestGetIntoDirectory: into an existing directory a path saves under its
// own name; a bare cap has no name, and the error says so (not "file
// exists").
func TestGetIntoDirectory(t *testing.T) {
	n := newTestNode(t)
	n.file("a.txt", "into a directory")
	c := strings.TrimSpace(n.ok("put", "a.txt", "home:a.txt"))
	if err := os.Mkdir(filepath.Join(n.cwd, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	n.ok("get", "home:a.txt", "out")
	if b, err := os.ReadFile(filepath.Join(n.cwd, "out", "a.txt")); err != nil || string(b) != "into a directory" {
		t.Fatalf("out/a.txt: %q %v", b, err)
	}
	_, errs, code := n.run("get", c, "out")
	if code != 1 || !strings.Contains(errs, "out: is a directory") || strings.Contains(errs, "file exists") {
		t.Fatalf("get CAP DIR: exit %d %q", code, errs)
	}
}

// TestSmallFixes: 'lafs ls ALIAS' hints at 'ALIAS:' (B31), 'lafs ls CAP'
// of a file names it (B29), LAFS_OUTPUT=json applies to version (B21).
func TestSmallFixes(t *testing.T) {
	n := newTestNode(t)
	if _, errs, code := n.run("ls", "home"); code != 1 || !strings.Contains(errs, "hint: home is an alias: did you mean 'home:'?") {
		t.Fatalf("ls home: exit %d %q", code, errs)
	}
	if got := n.ok("ls", "URI:LIT:nbswy3dp"); got != "URI:LIT:nbswy3dp\n" {
		t.Fatalf("ls of a file cap: %q", got)
	}
	var out bytes.Buffer
	env := func(k string) string {
		if k == "LAFS_OUTPUT" {
			return "json"
		}
		return ""
	}
	if code := Run(context.Background(), []string{"lafs", "version"}, &command.IO{Out: &out, Err: &bytes.Buffer{}}, env); code != 0 || !strings.HasPrefix(out.String(), "{") {
		t.Fatalf("LAFS_OUTPUT=json lafs version: exit %d %q", code, out.String())
	}
	out.Reset()
	bad := func(k string) string {
		if k == "LAFS_OUTPUT" {
			return "bogus"
		}
		return ""
	}
	if code := Run(context.Background(), []string{"lafs", "version"}, &command.IO{Out: &out, Err: &bytes.Buffer{}}, bad); code != 0 || !strings.HasPrefix(out.String(), "lafs ") {
		t.Fatalf("version with broken preferences: exit %d %q", code, out.String())
	}
}
