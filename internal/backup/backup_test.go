package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/internal/backup/backupdb"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

// fixture is a real embedded grid, a root directory on it, a real backup
// database and a local tree.
type fixture struct {
	t    *testing.T
	s    filestore.Store
	root *caps.Cap
	db   *backupdb.DB
	tree string
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	if err := localgrid.Create(dir, 4); err != nil {
		t.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseServers(ss) })
	s := client.NewStore(&client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20}, Convergence: []byte("c"), LeaseSecret: []byte("l")}, client.GridLocal)
	root, err := s.Mkdir(context.Background(), filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := backupdb.Open(context.Background(), filepath.Join(dir, "backupdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{t: t, s: s, root: root, db: db, tree: filepath.Join(dir, "tree")}
}

func (fx *fixture) write(rel, data string) {
	p := filepath.Join(fx.tree, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		fx.t.Fatal(err)
	}
}

// run backs the tree up to root/dst and returns the summary and every
// hook call, one line each, in order.
func (fx *fixture) run(s filestore.Store, dst string, o Options) (*Summary, []string, error) {
	var log []string
	o.From, o.To, o.Verbose = fx.tree, filestore.Path{Root: fx.root, Rel: dst}, true
	sum, err := Run(context.Background(), s, fx.db, o, Hooks{
		Warn:    func(msg string) { log = append(log, "warn "+msg) },
		Verbose: func(line string) { log = append(log, "verbose "+line) },
		Step: func(st Step) {
			log = append(log, fmt.Sprintf("step %d/%d %s %s %d", st.Done, st.Total, strings.TrimPrefix(st.Path, fx.tree), st.What, st.Size))
		},
	})
	for i := range log {
		log[i] = strings.ReplaceAll(log[i], fx.tree, "TREE")
	}
	return sum, log, err
}

// TestRunAndRerun: the first run uploads every file and creates every
// directory; the second, with nothing changed, uploads nothing and reuses
// the same snapshot; a changed file is uploaded again with only the
// directories above it new. Latest and Archives/<time> name the snapshot.
func TestRunAndRerun(t *testing.T) {
	fx := newFixture(t)
	fx.write("a.txt", "aaaa")
	fx.write("sub/b.txt", strings.Repeat("b", 3000))
	fx.write("sub/deeper/c.txt", "cc")
	fx.write("other/d.txt", "dddd")
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	sum, _, err := fx.run(fx.s, "bk", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesUploaded != 4 || sum.FilesReused != 0 || sum.DirsCreated != 4 || sum.Bytes != 3010 || sum.Archive != "2026-12-01_10:00:00Z" {
		t.Fatalf("first run: %+v", sum)
	}
	latest, err := fx.s.Resolve(context.Background(), fx.root, "bk/Latest")
	if err != nil || latest.String() != sum.Cap.String() {
		t.Fatalf("Latest: %v %v", latest, err)
	}
	if _, err := fx.s.Resolve(context.Background(), fx.root, "bk/Archives/2026-12-01_10:00:00Z/sub/deeper/c.txt"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	again, log, err := fx.run(fx.s, "bk", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if again.FilesUploaded != 0 || again.FilesReused != 4 || again.DirsReused != 4 || again.Cap.String() != sum.Cap.String() {
		t.Fatalf("second run: %+v\n%s", again, strings.Join(log, "\n"))
	}
	fx.write("sub/deeper/c.txt", "changed")
	clock = clock.Add(time.Minute)
	third, _, err := fx.run(fx.s, "bk", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if third.FilesUploaded != 1 || third.FilesReused != 3 || third.DirsCreated != 3 || third.DirsReused != 1 {
		t.Fatalf("after a change: %+v", third)
	}
}

// TestOrderIndependentOfParallel: one file at a time and eight at a time
// report the same hook calls in the same (walk) order, and make the same
// snapshot.
func TestOrderIndependentOfParallel(t *testing.T) {
	var logs [2][]string
	var tree string // one tree for both (the walk takes the directory's own order)
	for i, par := range []int{1, 8} {
		fx := newFixture(t)
		if tree == "" {
			for j := 0; j < 30; j++ {
				fx.write(fmt.Sprintf("d%d/f%02d", j%3, j), strings.Repeat("x", 100+j*50))
			}
			fx.write("skip.tmp", "excluded")
			tree = fx.tree
		}
		fx.tree = tree
		sum, log, err := fx.run(fx.s, "bk", Options{Parallel: par, Exclude: []string{"*.tmp"}})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = log
		if sum.FilesUploaded != 30 || sum.DirsCreated != 4 {
			t.Fatalf("Parallel %d: %+v", par, sum)
		}
	}
	a, b := strings.Join(logs[0], "\n"), strings.Join(logs[1], "\n")
	a = capRE(a)
	b = capRE(b)
	if a != b {
		t.Fatalf("Parallel 1:\n%s\nParallel 8:\n%s", a, b)
	}
	if !strings.Contains(a, "step 1/34 /d") || !strings.HasSuffix(a, "step 34/34  created 0") {
		t.Fatalf("walk order:\n%s", a)
	}
}

func capRE(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, " -> URI:"); i >= 0 {
			l = l[:i] + " -> CAP"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
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

// TestFailure: a failing upload stops the run with that failure (not the
// cancellations it causes), links no snapshot, and the files uploaded
// before it are remembered, so the re-run reuses them.
func TestFailure(t *testing.T) {
	fx := newFixture(t)
	for j := 0; j < 20; j++ {
		fx.write(fmt.Sprintf("f%02d", j), strings.Repeat("y", 100+j))
	}
	_, _, err := fx.run(failingStore{fx.s, 100 + 12}, "bk", Options{Parallel: 4})
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "f12") {
		t.Fatalf("Run: %v", err)
	}
	if _, err := fx.s.Resolve(context.Background(), fx.root, "bk/Latest"); !errors.Is(err, filestore.ErrNotFound) {
		t.Fatalf("Latest after a failure: %v", err)
	}
	sum, _, err := fx.run(fx.s, "bk", Options{Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesReused < 12 || sum.FilesUploaded+sum.FilesReused != 20 {
		t.Fatalf("re-run: %+v (the 12 files before the failure should be reused)", sum)
	}
}

// TestSkips: a symlink is reported and skipped, the rest backed up; a
// pattern that is no glob is a PatternError.
func TestSkips(t *testing.T) {
	fx := newFixture(t)
	fx.write("a.txt", "a")
	if err := os.Symlink("a.txt", filepath.Join(fx.tree, "link")); err != nil {
		t.Skip(err)
	}
	sum, log, err := fx.run(fx.s, "bk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Skipped() || sum.FilesSkipped != 1 || !strings.Contains(strings.Join(log, "\n"), "warn WARNING: cannot backup symlink 'TREE/link'") {
		t.Fatalf("%+v\n%s", sum, strings.Join(log, "\n"))
	}
	var pe *PatternError
	if _, _, err := fx.run(fx.s, "bk", Options{Exclude: []string{"[z-a]"}}); !errors.As(err, &pe) || pe.Pattern != "[z-a]" {
		t.Fatalf("a reversed range: %v, want a PatternError", err)
	}
}

// TestWalk counts what Run would back up.
func TestWalk(t *testing.T) {
	fx := newFixture(t)
	fx.write("a.txt", "12345")
	fx.write("s/b.log", "123")
	fx.write("s/c.tmp", "1234567")
	files, bytes, err := Walk(fx.tree, []string{"*.tmp"})
	if err != nil || files != 2 || bytes != 8 {
		t.Fatalf("Walk: %d files %d bytes %v", files, bytes, err)
	}
}

// TestFnmatch: --exclude globs as Python's fnmatch reads them.
func TestFnmatch(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		match     bool
	}{
		{"*.tmp", "a.tmp", true},
		{"*.tmp", "a.tmpx", false},
		{"?.c", "a.c", true},
		{"?.c", "ab.c", false},
		{"[!a]*", "b", true},
		{"[!a]*", "a", false},
		{"[ab].txt", "b.txt", true},
		{"{arch}", "{arch}", true},
		{"=update", "=update", true},
		{".git", ".gitx", false},
		{"a[", "a[", true},
		{"[^x]", "^", true},
	} {
		re, err := Fnmatch(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		if got := re.MatchString(c.name); got != c.match {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.name, c.pat, got, c.match)
		}
	}
}

// TestDirectoryOrder: the walk takes each directory's names in the order
// the directory lists them, unsorted, as Tahoe's backup (os.listdir)
// does, so the progress and verbose lines come in Tahoe's order.
func TestDirectoryOrder(t *testing.T) {
	fx := newFixture(t)
	for i := 0; i < 40; i++ {
		fx.write(fmt.Sprintf("n%02d", (i*17)%40), "x")
	}
	fh, err := os.Open(fx.tree)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := fh.Readdirnames(-1)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range listed {
		want = append(want, "/"+n)
	}
	want = append(want, "")
	var got []string
	o := Options{From: fx.tree, To: filestore.Path{Root: fx.root, Rel: "bk"}}
	if _, err := Run(context.Background(), fx.s, fx.db, o, Hooks{Step: func(st Step) { got = append(got, strings.TrimPrefix(st.Path, fx.tree)) }}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("walk order:\n%v\nthe directory's:\n%v", got, want)
	}
	if sort.StringsAreSorted(listed) {
		t.Log("this file system lists names sorted: the order is not told apart from a sorted walk")
	}
}
