package copier

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

func grid(t testing.TB) filestore.Store {
	dir := t.TempDir()
	if err := localgrid.Create(dir, 4); err != nil {
		t.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseServers(ss) })
	return client.NewStore(&client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20}, Convergence: []byte("c"), LeaseSecret: []byte("l")}, client.GridLocal)
}

// fixture is a grid with an alias "r" and a local directory.
type fixture struct {
	t       *testing.T
	s       filestore.Store
	root    *caps.Cap
	aliases map[string]string
	local   string
}

func newFixture(t *testing.T) *fixture { return fixtureOn(t, grid(t)) }

// fixtureOn makes a fixture with a new root directory on an existing grid.
func fixtureOn(t *testing.T, s filestore.Store) *fixture {
	root, err := s.Mkdir(context.Background(), filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, s: s, root: root, aliases: map[string]string{"r": root.String()}, local: t.TempDir()}
}

func (fx *fixture) loc(arg string) location.Location {
	fx.t.Helper()
	l, err := location.Parse(fx.aliases, arg)
	if err != nil {
		fx.t.Fatal(err)
	}
	return l
}

func (fx *fixture) write(rel, data string) {
	p := filepath.Join(fx.local, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

// kind says what a grid path is now: "file", "dir" or "missing".
func (fx *fixture) kind(rel string) string {
	c, err := fx.s.Resolve(context.Background(), fx.root, rel)
	switch {
	case errors.Is(err, filestore.ErrNotFound):
		return "missing"
	case err != nil:
		fx.t.Fatal(err)
	case c.IsDirectory():
		return "dir"
	}
	return "file"
}

func TestTreeRoundTrip(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	src := fx.local
	for i := 0; i < 30; i++ {
		fx.write(filepath.Join("tree", "d"+strconv.Itoa(i%3), "f"+strconv.Itoa(i)), string(bytes.Repeat([]byte{byte(i)}, 100*i)))
	}
	var moved atomic.Int64
	k := &Copier{Store: fx.s, Progress: func(n int64) { moved.Add(n) }}
	tree := location.LocalPath(filepath.Join(src, "tree"))
	if _, err := k.Copy(ctx, []location.Location{tree}, fx.loc("r:"), true); err != nil {
		t.Fatal(err)
	}
	if moved.Load() != TreeSize(filepath.Join(src, "tree")) {
		t.Fatalf("progress %d, tree %d", moved.Load(), TreeSize(filepath.Join(src, "tree")))
	}
	back := t.TempDir()
	from := fx.loc("r:tree")
	if _, err := k.Copy(ctx, []location.Location{from}, location.LocalPath(back), true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		rel := filepath.Join("tree", "d"+strconv.Itoa(i%3), "f"+strconv.Itoa(i))
		a, _ := os.ReadFile(filepath.Join(src, rel))
		b, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs: %v", rel, err)
		}
	}
	// Copying again onto existing local files needs Overwrite.
	if _, err := k.Copy(ctx, []location.Location{from}, location.LocalPath(back), true); err == nil {
		t.Fatal("existing files were overwritten without Overwrite")
	}
	// Grid to grid links the same caps; into itself is a cycle.
	if _, err := k.Copy(ctx, []location.Location{from}, fx.loc("r:tree/d0"), true); !errors.Is(err, ErrCycle) {
		t.Fatalf("cycle: %v", err)
	}
	if _, err := k.Copy(ctx, []location.Location{from}, fx.loc("r:copy"), true); err != nil {
		t.Fatal(err)
	}
	if fx.kind("copy/tree/d1/f1") != "file" {
		t.Fatal("r:copy/tree/d1/f1 was not made (Tahoe: a named directory lands inside a missing target)")
	}
	// A directory needs -r.
	if _, err := k.Copy(ctx, []location.Location{from}, location.LocalPath(t.TempDir()), false); !errors.Is(err, ErrNeedRecursive) {
		t.Fatalf("directory copied without recursive: %v", err)
	}
}

// TestTahoeTable follows the rows of Tahoe's own cp tests
// (src/allmydata/test/cli/test_cp.py) that the ux trial found lafs got
// wrong, and the other target rules of tahoe_cp.py.
func TestTahoeTable(t *testing.T) {
	ctx := context.Background()
	type result struct {
		outcome Outcome
		err     error
		check   map[string]string // grid path -> file, dir, missing
	}
	cases := []struct {
		name      string
		setup     func(fx *fixture)
		srcs      []string // local names are under fx.local
		dst       string
		recursive bool
		posix     bool
		want      result
	}{
		{name: "one file to a missing target makes a file",
			srcs: []string{"a.txt"}, dst: "r:new",
			want: result{outcome: FileCopied, check: map[string]string{"new": "file"}}},
		{name: "several files to a missing target make a directory",
			srcs: []string{"a.txt", "b.txt"}, dst: "r:new2/",
			want: result{outcome: FilesCopied, check: map[string]string{"new2": "dir", "new2/a.txt": "file", "new2/b.txt": "file"}}},
		{name: "several files to a missing target without a slash make a directory",
			srcs: []string{"a.txt", "b.txt"}, dst: "r:new3",
			want: result{outcome: FilesCopied, check: map[string]string{"new3/a.txt": "file", "new3/b.txt": "file"}}},
		{name: "a file to a missing target with a slash is E7-BADSLASH",
			srcs: []string{"a.txt"}, dst: "r:new4/",
			want: result{err: ErrTrailingSlash, check: map[string]string{"new4": "missing"}}},
		{name: "cp -r dir missing gives missing/dir/file",
			srcs: []string{"tree"}, dst: "r:missing", recursive: true,
			want: result{outcome: FilesCopied, check: map[string]string{"missing/tree/f1": "file", "missing/f1": "missing"}}},
		{name: "lafs (POSIX): cp -r dir missing gives missing/file",
			srcs: []string{"tree"}, dst: "r:missing", recursive: true, posix: true,
			want: result{outcome: FilesCopied, check: map[string]string{"missing/f1": "file", "missing/tree": "missing"}}},
		{name: "a directory without -r",
			srcs: []string{"tree"}, dst: "r:x",
			want: result{err: ErrNeedRecursive}},
		{name: "several things to a file",
			setup: func(fx *fixture) { mustCopy(fx, "a.txt", "r:file") },
			srcs:  []string{"a.txt", "b.txt"}, dst: "r:file",
			want: result{err: ErrMultiToFile}},
		{name: "a directory onto a file",
			setup: func(fx *fixture) { mustCopy(fx, "a.txt", "r:file") },
			srcs:  []string{"tree"}, dst: "r:file", recursive: true,
			want: result{err: ErrDirToFile}},
		{name: "a file onto a file replaces it",
			setup: func(fx *fixture) { mustCopy(fx, "a.txt", "r:file") },
			srcs:  []string{"b.txt"}, dst: "r:file",
			want: result{outcome: FileCopied, check: map[string]string{"file": "file"}}},
		{name: "files into an existing directory keep their names",
			setup: func(fx *fixture) { mustCopy(fx, "a.txt", "r:d/x") },
			srcs:  []string{"a.txt", "b.txt"}, dst: "r:d",
			want: result{outcome: FilesCopied, check: map[string]string{"d/a.txt": "file", "d/b.txt": "file", "d/x": "file"}}},
		{name: "a grid root's contents go straight into the target",
			setup: func(fx *fixture) {
				mustCopy(fx, "a.txt", "r:src/a.txt")
				fx.aliases["s"] = mustLookup(fx, "src").String()
			},
			srcs: []string{"s:"}, dst: "r:flat", recursive: true,
			want: result{outcome: FilesCopied, check: map[string]string{"flat/a.txt": "file"}}},
		{name: "grid file to grid file is a link",
			setup: func(fx *fixture) { mustCopy(fx, "a.txt", "r:a") },
			srcs:  []string{"r:a"}, dst: "r:a2",
			want: result{outcome: FileLinked, check: map[string]string{"a2": "file"}}},
		{name: "a missing source",
			srcs: []string{"nothere"}, dst: "r:",
			want: result{err: errAny}},
		{name: "two files of the same name into one directory",
			setup: func(fx *fixture) { fx.write("other/a.txt", "other a") },
			srcs:  []string{"a.txt", "other/a.txt"}, dst: "r:dup/",
			want: result{err: ErrCollision}},
	}
	s := grid(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := fixtureOn(t, s)
			fx.write("a.txt", "aaa")
			fx.write("b.txt", "bbb")
			fx.write("tree/f1", "f1")
			if tc.setup != nil {
				tc.setup(fx)
			}
			var srcs []location.Location
			for _, s := range tc.srcs {
				if location.IsGridArg(s) {
					srcs = append(srcs, fx.loc(s))
				} else {
					srcs = append(srcs, location.LocalPath(filepath.Join(fx.local, s)))
				}
			}
			k := &Copier{Store: fx.s, Overwrite: true, MissingDirIsCopy: tc.posix}
			got, err := k.Copy(ctx, srcs, fx.loc(tc.dst), tc.recursive)
			switch {
			case tc.want.err == errAny && err == nil:
				t.Fatalf("no error, outcome %q", got)
			case tc.want.err != nil && tc.want.err != errAny && !errors.Is(err, tc.want.err):
				t.Fatalf("error %v, want %v", err, tc.want.err)
			case tc.want.err == nil && err != nil:
				t.Fatal(err)
			case got != tc.want.outcome:
				t.Fatalf("outcome %q, want %q", got, tc.want.outcome)
			}
			for p, want := range tc.want.check {
				if k := fx.kind(p); k != want {
					t.Errorf("%s is %s, want %s", p, k, want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func mustCopy(fx *fixture, local, dst string) {
	fx.t.Helper()
	k := &Copier{Store: fx.s, Overwrite: true}
	if _, err := k.Copy(context.Background(), []location.Location{location.LocalPath(filepath.Join(fx.local, local))}, fx.loc(dst), false); err != nil {
		fx.t.Fatal(err)
	}
}

func mustLookup(fx *fixture, rel string) *caps.Cap {
	fx.t.Helper()
	c, err := fx.s.Resolve(context.Background(), fx.root, rel)
	if err != nil {
		fx.t.Fatal(err)
	}
	return c
}

// TestToStdout copies a grid file to "-".
func TestToStdout(t *testing.T) {
	fx := newFixture(t)
	fx.write("a.txt", "to stdout")
	mustCopy(fx, "a.txt", "r:a")
	var out bytes.Buffer
	k := &Copier{Store: fx.s, Stdout: &out}
	if _, err := k.Copy(context.Background(), []location.Location{fx.loc("r:a")}, fx.loc("-"), false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "to stdout" {
		t.Fatalf("stdout %q", out.String())
	}
}

// TestGridCopiesAreCopies: a directory copied within the grid is a new
// directory (changing the copy leaves the original alone), a mutable
// file's bytes are copied, and a local file copied onto a mutable file
// updates it in place, as Tahoe's cp does.
func TestGridCopiesAreCopies(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.write("a.txt", "aaa")
	mustCopy(fx, "a.txt", "r:src/a.txt")
	mut, err := fx.s.CreateMutable(ctx, []byte("version 1"), filestore.MutableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srcDir := mustLookup(fx, "src")
	if err := fx.s.Link(ctx, srcDir, "m", mut, false); err != nil {
		t.Fatal(err)
	}
	k := &Copier{Store: fx.s, MissingDirIsCopy: true}
	if _, err := k.Copy(ctx, []location.Location{fx.loc("r:src")}, fx.loc("r:copy"), true); err != nil {
		t.Fatal(err)
	}
	cp := mustLookup(fx, "copy")
	if cp.String() == srcDir.String() {
		t.Fatal("the copy is the same directory")
	}
	if c := mustLookup(fx, "copy/m"); c.IsMutable() {
		t.Fatalf("the mutable file was linked, not copied: %s", c)
	}
	if mustLookup(fx, "copy/a.txt").String() != mustLookup(fx, "src/a.txt").String() {
		t.Fatal("an immutable file was not linked as it is")
	}
	mustCopy(fx, "a.txt", "r:copy/new.txt")
	if fx.kind("src/new.txt") != "missing" {
		t.Fatal("changing the copy changed the original")
	}
	// Onto the mutable file: a new version, same cap.
	fx.write("v2.txt", "version 2")
	k.Overwrite = true
	if _, err := k.Copy(ctx, []location.Location{location.LocalPath(filepath.Join(fx.local, "v2.txt"))}, fx.loc("r:src/m"), false); err != nil {
		t.Fatal(err)
	}
	if mustLookup(fx, "src/m").String() != mut.String() {
		t.Fatal("the mutable file was replaced, not updated")
	}
	var b bytes.Buffer
	if err := fx.s.Download(ctx, mut, &b, filestore.DownloadOptions{}); err != nil || b.String() != "version 2" {
		t.Fatalf("mutable file holds %q (%v)", b.String(), err)
	}
}

// listTree lists a grid tree as "path kind size" lines, in name order.
func (fx *fixture) listTree(c *caps.Cap, prefix string, out *[]string) {
	entries, err := fx.s.ReadDir(context.Background(), c)
	if err != nil {
		fx.t.Fatal(err)
	}
	for _, e := range entries {
		child, err := caps.Parse(e.Cap())
		if err != nil {
			fx.t.Fatal(err)
		}
		if child.IsDirectory() {
			*out = append(*out, prefix+e.Name+"/")
			fx.listTree(child, prefix+e.Name+"/", out)
			continue
		}
		*out = append(*out, prefix+e.Name+" "+child.String())
	}
}

// TestTreeParallel: a tree uploaded one file at a time and eight at a
// time gives the same directories with the same file caps, the same
// verbose lines in the same (walk) order, and counts every file once.
func TestTreeParallel(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	for i := 0; i < 24; i++ {
		fx.write(filepath.Join("tree", "d"+strconv.Itoa(i%2), "e"+strconv.Itoa(i%3%2), "f"+strconv.Itoa(i)), strings.Repeat("x", 60+i*37))
	}
	fx.write(filepath.Join("tree", "top.txt"), strings.Repeat("t", 5000))
	var listings [2][]string
	var verbose [2][]string
	for run, par := range []int{1, 8} {
		var files atomic.Int32
		k := &Copier{Store: fx.s, Parallel: par, FileDone: func() { files.Add(1) },
			Verbose: func(msg string) { verbose[run] = append(verbose[run], strings.ReplaceAll(msg, fx.local, "LOCAL")) }}
		dst := fx.loc("r:p" + strconv.Itoa(par))
		if _, err := k.Copy(ctx, []location.Location{location.LocalPath(filepath.Join(fx.local, "tree"))}, dst, true); err != nil {
			t.Fatal(err)
		}
		if n := files.Load(); n != 25 {
			t.Fatalf("Parallel %d: FileDone told of %d files, want 25", par, n)
		}
		c, err := fx.s.Resolve(ctx, fx.root, "p"+strconv.Itoa(par)+"/tree")
		if err != nil {
			t.Fatal(err)
		}
		fx.listTree(c, "", &listings[run])
	}
	if strings.Join(listings[0], "\n") != strings.Join(listings[1], "\n") {
		t.Fatalf("one at a time:\n%s\neight at a time:\n%s", strings.Join(listings[0], "\n"), strings.Join(listings[1], "\n"))
	}
	if len(listings[0]) != 25+2+4 {
		t.Fatalf("%d entries, want 31", len(listings[0]))
	}
	if strings.Join(verbose[0], "\n") != strings.Join(verbose[1], "\n") {
		t.Fatalf("verbose lines differ:\n%v\n%v", verbose[0], verbose[1])
	}
}

// failingStore is a real store whose uploads of one size fail.
type failingStore struct {
	filestore.Store
	size int64
}

var errInjected = errors.New("injected upload failure")

func (s failingStore) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	if size == s.size {
		return nil, errInjected
	}
	return s.Store.Upload(ctx, src, size, o)
}

// TestTreeUploadFailure: when one upload of a parallel tree copy fails,
// Copy returns that failure (not the cancellations it causes) and links
// nothing at the target.
func TestTreeUploadFailure(t *testing.T) {
	fx := newFixture(t)
	for i := 0; i < 24; i++ {
		fx.write(filepath.Join("tree", "f"+strconv.Itoa(i)), strings.Repeat("y", 100+i))
	}
	k := &Copier{Store: failingStore{fx.s, 100 + 17}, Parallel: 4}
	_, err := k.Copy(context.Background(), []location.Location{location.LocalPath(filepath.Join(fx.local, "tree"))}, fx.loc("r:dst"), true)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "f17") {
		t.Fatalf("Copy: %v, want the injected failure of f17", err)
	}
	if k := fx.kind("dst/tree"); k != "missing" {
		t.Fatalf("r:dst/tree is %s after a failed copy", k)
	}
}
