package tahoecmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
)

// testNode is a client node directory with an embedded grid of 4 servers
// (2-of-4, happy 3) and an alias "home", made by tahoe itself.
type testNode struct {
	t   *testing.T
	dir string
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	n := &testNode{t: t, dir: filepath.Join(t.TempDir(), "node")}
	n.ok("create-client", "--local-grid", "4", "--shares-needed", "2", "--shares-happy", "3", "--shares-total", "4", n.dir)
	n.ok("-d", n.dir, "create-alias", "home")
	return n
}

// run runs tahoe with args and returns stdout, stderr and the exit status.
func (n *testNode) run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	stdio := &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
	code := Run(context.Background(), append([]string{"tahoe"}, args...), stdio)
	return out.String(), errb.String(), code
}

// ok runs tahoe -d NODE args and fails the test unless it succeeds.
func (n *testNode) ok(args ...string) string {
	n.t.Helper()
	out, errs, code := n.run(args...)
	if code != 0 {
		n.t.Fatalf("tahoe %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// factory is a factory over buffers for calling run functions directly.
func (n *testNode) factory() (*command.Factory, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	f := NewFactory(&command.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	f.NodeDirFlag = n.dir
	n.t.Cleanup(func() { f.Close() })
	return f, &out, &errb
}

func (n *testNode) file(name, data string) string {
	p := filepath.Join(n.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		n.t.Fatal(err)
	}
	return p
}

// TestMkdirCreatesMissingAndKeepsExisting: Tahoe's t=mkdir makes the
// directories on the way, and on an existing directory changes nothing and
// answers its cap.
func TestMkdirCreatesMissingAndKeepsExisting(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	f, out, _ := n.factory()
	if err := runMkdir(ctx, f, mkdirOptions{Path: "home:a/b/c"}); err != nil {
		t.Fatal(err)
	}
	first := strings.TrimSpace(out.String())
	if !strings.HasPrefix(first, "URI:DIR2:") {
		t.Fatalf("mkdir printed %q", first)
	}
	if got := n.ok("-d", n.dir, "ls", "home:a/b"); got != "c\n" {
		t.Fatalf("ls home:a/b = %q", got)
	}
	again := strings.TrimSpace(n.ok("-d", n.dir, "mkdir", "home:a/b/c"))
	if again != first {
		t.Fatalf("mkdir on an existing directory printed %s, want its cap %s", again, first)
	}
	// Under a file: one clear error naming the file.
	n.ok("-d", n.dir, "put", n.file("f.txt", "x"), "home:f.txt")
	_, errs, code := n.run("-d", n.dir, "mkdir", "home:f.txt/sub")
	if code != 1 || !strings.Contains(errs, "is a file") {
		t.Fatalf("mkdir under a file: exit %d, %q", code, errs)
	}
}

func TestMkdirUnderFileCap(t *testing.T) {
	n := newTestNode(t)
	_, errs, code := n.run("-d", n.dir, "mkdir", "URI:LIT:nbswy3dpbi/x")
	if code != 1 || !strings.Contains(errs, "is a file cap, not a directory") || strings.Contains(errs, "read-only directory") {
		t.Fatalf("exit %d, %q", code, errs)
	}
}

// TestPutCreatesDirectories: webapi PUT /uri/$DIRCAP/SUBDIRS../FILENAME
// makes the missing directories.
func TestPutCreatesDirectories(t *testing.T) {
	n := newTestNode(t)
	f, out, errb := n.factory()
	if err := runPut(context.Background(), f, putOptions{From: n.file("x.txt", "deep file"), To: "home:deep/er/x.txt"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "URI:LIT:") || errb.String() != "201 Created\n" {
		t.Fatalf("stdout %q stderr %q", out, errb)
	}
	if got := n.ok("-d", n.dir, "get", "home:deep/er/x.txt"); got != "deep file" {
		t.Fatalf("got %q", got)
	}
}

// TestLsFileLong: ls -l on a file prints its long row (B13).
func TestLsFileLong(t *testing.T) {
	n := newTestNode(t)
	n.ok("-d", n.dir, "put", n.file("p.txt", strings.Repeat("p", 100)), "home:p.txt")
	got := n.ok("-d", n.dir, "ls", "-l", "home:p.txt")
	if !strings.HasPrefix(got, "-r-- 100 ") || !strings.HasSuffix(got, " p.txt\n") {
		t.Fatalf("ls -l on a file: %q", got)
	}
}

func TestMoveAndLink(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	n.ok("-d", n.dir, "put", n.file("a.txt", "a"), "home:a.txt")
	n.ok("-d", n.dir, "mkdir", "home:d")
	f, out, _ := n.factory()
	if err := runMove(ctx, f, moveOptions{From: "home:a.txt", To: "home:d"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "OK\n" {
		t.Fatalf("mv printed %q", out)
	}
	if err := runMove(ctx, f, moveOptions{From: "home:d/a.txt", To: "home:b.txt", Link: true}); err != nil {
		t.Fatal(err)
	}
	if got := n.ok("-d", n.dir, "ls", "home:"); got != "b.txt\nd\n" {
		t.Fatalf("ls home: %q", got)
	}
	// A directory into itself is refused, and nothing is lost.
	n.ok("-d", n.dir, "mkdir", "home:d/e")
	if _, errs, code := n.run("-d", n.dir, "mv", "home:d", "home:d/e"); code != 1 || !strings.Contains(errs, "into itself") {
		t.Fatalf("mv into itself: exit %d %q", code, errs)
	}
	if got := n.ok("-d", n.dir, "ls", "home:d"); got != "a.txt\ne\n" {
		t.Fatalf("ls home:d after the refused mv: %q", got)
	}
}

// TestCpOutcomes: tahoe cp says what it did, in Tahoe's words.
func TestCpOutcomes(t *testing.T) {
	n := newTestNode(t)
	a, b := n.file("a.txt", "a"), n.file("b.txt", "b")
	for _, tc := range []struct {
		args []string
		out  string
		code int
		errs string
	}{
		{args: []string{a, "home:one"}, out: "Success: file copied\n"},
		{args: []string{a, b, "home:two/"}, out: "Success: files copied\n"},
		{args: []string{a, "home:three/"}, code: 1, errs: "target is not a directory, but ends with a slash"},
		{args: []string{"home:one", "home:four"}, out: "Success: file linked\n"},
		{args: []string{a, "nosuch:x"}, code: 1, errs: "Unknown alias 'nosuch'"},
	} {
		out, errs, code := n.run(append([]string{"-d", n.dir, "cp"}, tc.args...)...)
		if code != tc.code || out != tc.out || !strings.Contains(errs, tc.errs) {
			t.Errorf("cp %v: exit %d stdout %q stderr %q", tc.args, code, out, errs)
		}
	}
	// Several grid files to a missing local directory make it (B6).
	local := filepath.Join(t.TempDir(), "localmissing") + "/"
	if out, errs, code := n.run("-d", n.dir, "cp", "home:one", "home:four", local); code != 0 || out != "Success: files copied\n" {
		t.Fatalf("cp to a missing local directory: exit %d %q %q", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(local, "four")); err != nil || string(b) != "a" {
		t.Fatalf("localmissing/four: %q %v", b, err)
	}
	if got := n.ok("-d", n.dir, "ls", "home:two"); got != "a.txt\nb.txt\n" {
		t.Fatalf("ls home:two = %q", got)
	}
	// -v says what is copied, on stderr.
	_, errs, _ := n.run("-d", n.dir, "cp", "-v", a, b, "home:five")
	if !strings.Contains(errs, "attaching sources to targets, 2 files / 0 dirs in root") || !strings.Contains(errs, "-> home:five/a.txt") {
		t.Fatalf("cp -v stderr %q", errs)
	}
}

// TestListAliasesGolden pins list-aliases's layout: names right-aligned to
// the longest, as Tahoe prints them.
func TestListAliasesGolden(t *testing.T) {
	n := newTestNode(t)
	dirCap := "URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"
	n.ok("-d", n.dir, "add-alias", "a-long-name", dirCap)
	f, out, _ := n.factory()
	if err := runListAliases(f, listAliasesOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "a-long-name: "+dirCap || !strings.HasPrefix(lines[1], "       home: URI:DIR2:") {
		t.Fatalf("list-aliases:\n%s", out)
	}
	out.Reset()
	if err := runListAliases(f, listAliasesOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "a-long-name: URI:DIR2-RO:4jizhmespzudyajo5l7xw6cil4:") {
		t.Fatalf("--readonly-uri:\n%s", out)
	}
}

// TestOneFactoryPerRun: a command that touches the grid several times
// opens the node and the store once, and the run closes it.
func TestOneFactoryPerRun(t *testing.T) {
	n := newTestNode(t)
	f, _, _ := n.factory()
	s1, err := f.Store()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := f.Store()
	n1, _ := f.Node()
	n2, _ := f.Node()
	if s1 != s2 || n1 != n2 {
		t.Fatal("the factory opened twice")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestGetIntoDirectory: tahoe get onto a directory says so, and leaves it.
func TestGetIntoDirectory(t *testing.T) {
	n := newTestNode(t)
	c := strings.TrimSpace(n.ok("-d", n.dir, "put", n.file("a.txt", "x")))
	dir := t.TempDir()
	_, errs, code := n.run("-d", n.dir, "get", c, dir)
	if code != 1 || !strings.Contains(errs, "is a directory") || strings.Contains(errs, "file exists") {
		t.Fatalf("exit %d %q", code, errs)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatal("the directory was replaced")
	}
}

// TestAliasDamage: a bad alias name is refused; a damaged aliases file
// is named in a warning and its good lines still work.
func TestAliasDamage(t *testing.T) {
	n := newTestNode(t)
	if _, errs, code := n.run("-d", n.dir, "create-alias", "bad\tname"); code == 0 || !strings.Contains(errs, "cannot contain") {
		t.Fatalf("create-alias with a tab: exit %d %q", code, errs)
	}
	path := filepath.Join(n.dir, "private", "aliases")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append([]byte("garbage without a colon\n"), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := n.run("-d", n.dir, "ls", "home:")
	if code != 0 || out != "" || !strings.Contains(errs, "tahoe: warning: "+path+":1: expected 'name: cap'; the line is ignored") {
		t.Fatalf("ls with a damaged aliases file: exit %d stdout %q stderr %q", code, out, errs)
	}
}

// TestPutOntoMutableFile: put to a path holding a writeable mutable file
// replaces its contents in place (the web API's PUT), keeping its cap.
func TestPutOntoMutableFile(t *testing.T) {
	n := newTestNode(t)
	mut := strings.TrimSpace(n.ok("-d", n.dir, "put", "--mutable", n.file("v1", "version 1"), "home:notes"))
	got := strings.TrimSpace(n.ok("-d", n.dir, "put", n.file("v2", "version 2"), "home:notes"))
	if got != mut {
		t.Fatalf("put printed %s, want the mutable file's cap %s", got, mut)
	}
	if b := n.ok("-d", n.dir, "get", "home:notes"); b != "version 2" {
		t.Fatalf("home:notes holds %q", b)
	}
}

// TestUsageErrorGolden pins a usage error as Tahoe's runner prints it:
// the command's usage, then "tahoe:  message" and a blank line, all on
// stdout, exit 1, nothing on stderr.
func TestUsageErrorGolden(t *testing.T) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"tahoe", "put", "--bogus", "a.txt"}, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != 1 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	path := "testdata/usage-put.golden"
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if out.String() != string(want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestFileStoreOptions: -u reaches the store's opening (a gateway), a bad
// one is a usage error, and --dir-cap is the 'tahoe' alias.
func TestFileStoreOptions(t *testing.T) {
	n := newTestNode(t)
	var out, errb bytes.Buffer
	f := NewFactory(&command.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	var gotURL string
	f.OpenStore = func(_ *nodedir.Node, o lafs.Options) (filestore.Store, lafs.Mode, error) {
		gotURL = o.NodeURL
		return nil, lafs.ModeGateway, lafs.ErrGatewayUnsupported
	}
	code := command.Run(context.Background(), NewApp(f), []string{"tahoe", "-d", n.dir, "ls", "-u", "http://127.0.0.1:3456", "home:"}, f)
	if code != 1 || gotURL != "http://127.0.0.1:3456" || !strings.Contains(errb.String(), "not supported yet") {
		t.Fatalf("exit %d, url %q, stderr %q", code, gotURL, errb.String())
	}
	if out, _, code := n.run("-d", n.dir, "ls", "--node-url", "ftp://x", "home:"); code != 1 || !strings.Contains(out, `--node-url is required to be a string and look like "http://HOSTNAMEORADDR:PORT"`) {
		t.Fatalf("bad --node-url: exit %d %q", code, out)
	}
	n.ok("-d", n.dir, "put", n.file("x.txt", "x"), "home:x.txt")
	node, err := nodedir.Open(n.dir)
	if err != nil {
		t.Fatal(err)
	}
	aliases, _ := node.Aliases()
	if got := n.ok("-d", n.dir, "ls", "--dir-cap", aliases["home"]); got != "x.txt\n" {
		t.Fatalf("ls --dir-cap: %q", got)
	}
}
