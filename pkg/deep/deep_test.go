package deep_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func newStore(t *testing.T) *client.Store {
	t.Helper()
	return newGrid(t).Store
}

func newGrid(t *testing.T) *localgridtest.Grid {
	t.Helper()
	g := localgridtest.New(t, localgridtest.Options{Servers: 5, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 5, MaxSegmentSize: 128 << 10},
		Convergence: []byte("deep"), LeaseSecret: []byte("deep lease")})
	return g
}

func upload(t *testing.T, s filestore.Store, n int, seed byte) *caps.Cap {
	t.Helper()
	data := bytes.Repeat([]byte{seed}, n)
	res, err := s.Upload(context.Background(), bytes.NewReader(data), int64(n), filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Cap
}

func link(t *testing.T, s filestore.Store, dir *caps.Cap, name string, c *caps.Cap) {
	t.Helper()
	if err := s.Link(context.Background(), dir, name, c, false); err != nil {
		t.Fatal(err)
	}
}

// tree builds a tree whose walk the tests know:
//
//	root/        SDMF directory
//	  a.txt      CHK, 1000 bytes
//	  b          LIT, 10 bytes
//	  imm/       immutable directory: x (CHK, 200 bytes), y (LIT, 5 bytes)
//	  mut        SDMF file
//	  ro-sub/    read cap of sub (met first, by name, so sub is skipped)
//	  sub/       MDMF directory: c (CHK, 5000), lit2 (LIT, 3),
//	             loop (root again), same-a (a.txt again)
//	  unk        an unknown cap
type tree struct {
	root, a, b, imm, x, y, mut, sub, c, lit2, unk *caps.Cap
}

func buildTree(t *testing.T, s filestore.Store) tree {
	t.Helper()
	ctx := context.Background()
	var tr tree
	var err error
	if tr.root, err = s.Mkdir(ctx, filestore.MkdirOptions{}); err != nil {
		t.Fatal(err)
	}
	tr.a = upload(t, s, 1000, 'a')
	tr.b = upload(t, s, 10, 'b')
	tr.x = upload(t, s, 200, 'x')
	tr.y = upload(t, s, 5, 'y')
	tr.c = upload(t, s, 5000, 'c')
	tr.lit2 = upload(t, s, 3, 'l')
	if tr.imm, err = s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{
		client.EntryFor("x", tr.x), client.EntryFor("y", tr.y)}}); err != nil {
		t.Fatal(err)
	}
	if tr.mut, err = s.CreateMutable(ctx, []byte("mutable"), filestore.MutableOptions{}); err != nil {
		t.Fatal(err)
	}
	if tr.sub, err = s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatMDMF}); err != nil {
		t.Fatal(err)
	}
	if tr.unk, err = caps.Parse("x-tahoe-crazy:some future cap"); err != nil || !tr.unk.IsUnknown() {
		t.Fatalf("unknown cap: %v %v", tr.unk, err)
	}
	link(t, s, tr.sub, "c", tr.c)
	link(t, s, tr.sub, "lit2", tr.lit2)
	link(t, s, tr.sub, "loop", tr.root)
	link(t, s, tr.sub, "same-a", tr.a)
	for _, l := range []struct {
		name string
		c    *caps.Cap
	}{{"a.txt", tr.a}, {"b", tr.b}, {"imm", tr.imm}, {"mut", tr.mut}, {"ro-sub", tr.sub.ReadOnly()}, {"sub", tr.sub}, {"unk", tr.unk}} {
		link(t, s, tr.root, l.name, l.c)
	}
	return tr
}

// dirSize is the stored size of a directory's contents, computed from its
// entries (not from the download the walk uses).
func dirSize(t *testing.T, s filestore.Store, dir *caps.Cap) int64 {
	t.Helper()
	if dir.Kind == caps.KindDIR2CHK {
		return int64(dir.Size)
	}
	es, err := s.ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dirnode.Pack(es, dir.WriteKey)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b))
}

func TestManifestAndStats(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tr := buildTree(t, s)
	nodes, stats, err := deep.Manifest(ctx, s, tr.root, deep.Options{Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ path, cap, typ string }
	want := []row{
		{"", tr.root.String(), "directory"},
		{"unk", tr.unk.String(), "unknown"},
		{"a.txt", tr.a.String(), "file"},
		{"b", tr.b.String(), "file"},
		{"mut", tr.mut.String(), "file"},
		{"imm", tr.imm.String(), "directory"},
		{"imm/x", tr.x.String(), "file"},
		{"imm/y", tr.y.String(), "file"},
		{"ro-sub", tr.sub.ReadOnly().String(), "directory"},
		{"ro-sub/c", tr.c.String(), "file"},
		{"ro-sub/lit2", tr.lit2.String(), "file"},
	}
	var got []row
	for _, n := range nodes {
		got = append(got, row{n.PathString(), n.Cap.String(), n.Type})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("manifest:\n%v\nwant\n%v", got, want)
	}
	sizes := dirSize(t, s, tr.root) + dirSize(t, s, tr.imm) + dirSize(t, s, tr.sub)
	largest := max(dirSize(t, s, tr.root), dirSize(t, s, tr.imm), dirSize(t, s, tr.sub))
	wantStats := deep.Stats{
		ImmutableFiles: 3, MutableFiles: 1, LiteralFiles: 3, Files: 7, Directories: 3, Unknown: 1,
		SizeImmutableFiles: 6200, SizeLiteralFiles: 18, SizeDirectories: uint64(sizes),
		LargestDirectory: uint64(largest), LargestDirectoryChildren: 7, LargestImmutableFile: 5000,
	}
	gotStats := *stats
	if fmt.Sprint(stripHist(gotStats)) != fmt.Sprint(stripHist(wantStats)) {
		t.Errorf("stats:\n%+v\nwant\n%+v", stripHist(gotStats), stripHist(wantStats))
	}
	if h := fmt.Sprint(stats.Histogram()); h != "[{1 3 1} {4 10 2} {101 316 1} {317 1000 1} {3163 10000 1}]" {
		t.Errorf("histogram %s", h)
	}
	if stats.TotalSize() != 6200+uint64(sizes) {
		t.Errorf("deep-size %d", stats.TotalSize())
	}
	// The same walk, one read at a time, gives the same answer.
	again, _, err := deep.Manifest(ctx, s, tr.root, deep.Options{Parallel: 1})
	if err != nil || fmt.Sprint(again) != fmt.Sprint(nodes) {
		t.Errorf("Parallel 1: %v", err)
	}
	// Manifest lines and repair caps.
	var b strings.Builder
	for _, f := range []deep.ManifestField{deep.ManifestCaps, deep.ManifestStorageIndex, deep.ManifestVerifyCap, deep.ManifestRepairCap} {
		for _, n := range nodes {
			if err := deep.WriteManifestLine(&b, n, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := b.String()
	for _, w := range []string{
		tr.root.String() + " \n",
		tr.a.String() + " a.txt\n",
		tr.sub.ReadOnly().String() + " ro-sub\n",
		"\n" + caps.Base32Encode(tr.a.StorageIndex) + "\n",
		"\n" + tr.a.Verifier().String() + "\n",
		"\n" + tr.root.String() + "\n" + tr.a.Verifier().String() + "\n", // repair caps: root's write cap, then a.txt's verify cap
	} {
		if !strings.Contains(out, w) {
			t.Errorf("manifest output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "x-tahoe-crazy") {
		t.Error("manifest printed the unknown object")
	}
	for _, n := range nodes {
		if n.PathString() == "ro-sub" && n.RepairCap() != "" {
			t.Errorf("read-only directory has repair cap %q", n.RepairCap())
		}
		if n.PathString() == "imm" && n.RepairCap() != n.Cap.Verifier().String() {
			t.Errorf("immutable directory repair cap %q", n.RepairCap())
		}
	}
}

func stripHist(s deep.Stats) string {
	return fmt.Sprint(s.ImmutableFiles, s.MutableFiles, s.LiteralFiles, s.Files, s.Directories, s.Unknown,
		s.SizeImmutableFiles, s.SizeLiteralFiles, s.SizeDirectories, s.LargestDirectory, s.LargestDirectoryChildren, s.LargestImmutableFile)
}

// slowStore delays and counts directory reads.
type slowStore struct {
	filestore.Store
	inFlight, peak, reads atomic.Int32
	fail                  string // a directory cap whose read fails
}

func (s *slowStore) Download(ctx context.Context, c *caps.Cap, w io.Writer, o filestore.DownloadOptions) error {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	s.reads.Add(1)
	if s.fail != "" && c.String() == s.fail {
		return errors.New("this directory is gone")
	}
	time.Sleep(15 * time.Millisecond)
	return s.Store.Download(ctx, c, w, o)
}

func TestWalkBoundsReadsInFlight(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	// Immutable directories: no RSA keys to make.
	var children []dirnode.Entry
	for i := 0; i < 24; i++ {
		d, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{
			client.EntryFor("f", upload(t, s, 20, byte(i)))}})
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, client.EntryFor(fmt.Sprintf("d%02d", i), d))
	}
	mid, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: children})
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{client.EntryFor("mid", mid)}})
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowStore{Store: s}
	var seen []string
	var mu sync.Mutex
	start := time.Now()
	err = deep.Walk(ctx, slow, root, deep.Options{Parallel: 4}, func(_ context.Context, n deep.Node) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, n.PathString())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 50 || seen[2] != "mid/d00" || seen[3] != "mid/d00/f" || seen[49] != "mid/d23/f" {
		t.Errorf("walk order %v", seen)
	}
	if p := slow.peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak reads in flight %d, want 2..4", p)
	}
	if r := slow.reads.Load(); r != 26 {
		t.Errorf("%d directory reads for 26 directories", r)
	}
	t.Logf("26 directories in %v, peak %d reads in flight", time.Since(start), slow.peak.Load())
}

func TestWalkUnreadableDirectory(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tr := buildTree(t, s)
	f, _ := caps.FileOf(tr.imm)
	slow := &slowStore{Store: s, fail: f.String()}
	var seen []string
	err := deep.Walk(ctx, slow, tr.root, deep.Options{}, func(_ context.Context, n deep.Node) error {
		seen = append(seen, n.PathString())
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "imm: reading directory: this directory is gone") {
		t.Fatalf("walk: %v", err)
	}
	if seen[len(seen)-1] != "imm" {
		t.Errorf("the unreadable directory was not visited last: %v", seen)
	}
	stop := errors.New("stop")
	err = deep.Walk(ctx, s, tr.root, deep.Options{}, func(_ context.Context, n deep.Node) error {
		if n.PathString() == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("visitor error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := deep.Walk(cctx, s, tr.root, deep.Options{}, func(context.Context, deep.Node) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v", err)
	}
}

func TestStatsHistogramMatchesTahoe(t *testing.T) {
	// Tahoe's own test of its DeepStats histogram.
	var s deep.Stats
	for i := 1; i < 1100; i++ {
		s.Add(deep.Node{Type: deep.TypeFile, Cap: &caps.Cap{Kind: caps.KindCHK, Size: uint64(i)}})
	}
	s.Add(deep.Node{Type: deep.TypeFile, Cap: &caps.Cap{Kind: caps.KindCHK, Size: 4 * 1000 * 1000 * 1000 * 1000}})
	want := "[{1 3 3} {4 10 7} {11 31 21} {32 100 69} {101 316 216} {317 1000 684} {1001 3162 99} {3162277660169 10000000000000 1}]"
	if got := fmt.Sprint(s.Histogram()); got != want {
		t.Errorf("histogram\n%s\nwant\n%s", got, want)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// fixedNodes is a small walk with fixed caps, for the output formats.
func fixedNodes(t *testing.T) []deep.Node {
	t.Helper()
	parse := func(s string) *caps.Cap {
		c, err := caps.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return []deep.Node{
		{Cap: parse("URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"), Type: deep.TypeDirectory, Children: 3, Size: 1234},
		{Path: []string{"odd"}, Cap: parse("x-tahoe-crazy:future"), Type: deep.TypeUnknown},
		{Path: []string{"big file"}, Cap: parse("URI:CHK:jqeq2uvnqkjtpsabgrdu4kglom:brpodonxl2mqmf7rdhdb7d3tvdi4jcb4qxjalhvchs2bggk45xaq:3:10:123456789"), Type: deep.TypeFile},
		{Path: []string{"caf\u00e9"}, Cap: parse("URI:LIT:mfrgg"), Type: deep.TypeFile},
	}
}

func TestOutputGolden(t *testing.T) {
	nodes := fixedNodes(t)
	var s deep.Stats
	var lines strings.Builder
	for _, n := range nodes {
		s.Add(n)
		lines.WriteString(deep.StreamLine(n) + "\n")
	}
	lines.WriteString(deep.StatsLine(&s) + "\n")
	golden(t, "stream-manifest.txt", lines.String())
	golden(t, "start-manifest.json", deep.ManifestJSON(nodes, &s, "gaytemzugu3doobzmfrggzdfmy", true))
	golden(t, "deep-stats.json", s.JSON(true))
	var b strings.Builder
	if err := deep.WriteStats(&b, &s); err != nil {
		t.Fatal(err)
	}
	golden(t, "stats.txt", b.String())
	b.Reset()
	for _, n := range nodes {
		if err := deep.WriteManifestLine(&b, n, deep.ManifestCaps); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "manifest.txt", b.String())
}

func TestDeepCheckAndRepair(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	s := g.Store
	tr := buildTree(t, s)
	var b strings.Builder
	p := &health.DeepPrinter{W: &b, Verbose: true}
	var lines []string
	report, err := deep.Check(ctx, s, s, tr.root, deep.CheckOptions{Parallel: 3}, func(c deep.Checked) error {
		lines = append(lines, c.Line())
		return p.Add(c.DeepLine())
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Done()
	want := `'<root>': Healthy
'a.txt': Healthy
'b': Healthy (LIT)
'mut': Healthy
'imm': Healthy
'imm/x': Healthy
'imm/y': Healthy (LIT)
'ro-sub': Healthy
'ro-sub/c': Healthy
'ro-sub/lit2': Healthy (LIT)
done: 10 objects checked, 10 healthy, 0 unhealthy
`
	if b.String() != want {
		t.Errorf("deep-check output:\n%s\nwant\n%s", b.String(), want)
	}
	if len(lines) != 11 || !strings.Contains(lines[1], `"type": "unknown"`) || !strings.Contains(lines[1], `"check-results": {"storage-index": "", "results": {"healthy": true}}`) {
		t.Errorf("stream lines: %v", lines[:2])
	}
	if !report.Finished || report.Checked != 7 || report.Healthy != 7 || report.Stats.Files != 7 || report.Stats.Unknown != 1 {
		t.Errorf("report: %+v", report)
	}

	g.RemoveShares(t, tr.c, 2)
	g.RemoveShares(t, tr.root, 1)
	g.RemoveShares(t, tr.x, 4) // 2-of-5: unrecoverable
	report, err = deep.Check(ctx, s, s, tr.root, deep.CheckOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if report.Checked != 7 || report.Healthy != 4 || report.Unhealthy != 3 || report.Unrecoverable != 1 || len(report.UnhealthyObjects) != 3 {
		t.Errorf("damaged tree: %+v", report)
	}
	j := report.JSON()
	for _, w := range []string{`"count-objects-unhealthy": 3,`, `"list-unhealthy-files": [`, "\"imm\",\n    \"x\"", `"count-directories": 3,`} {
		if !strings.Contains(j, w) {
			t.Errorf("report JSON lacks %q:\n%s", w, j)
		}
	}

	b.Reset()
	p = &health.DeepPrinter{W: &b, Repairing: true}
	report, err = deep.Check(ctx, s, s, tr.root, deep.CheckOptions{Repair: true}, func(c deep.Checked) error { return p.Add(c.DeepLine()) })
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Done()
	want = ` repair successful
 repair failed
 repair successful
done: 10 objects checked
 pre-repair: 7 healthy, 3 unhealthy
 3 repairs attempted, 2 successful, 1 failed
 post-repair: 9 healthy, 1 unhealthy
`
	if b.String() != want {
		t.Errorf("deep-check --repair output:\n%s\nwant\n%s", b.String(), want)
	}
	if report.RepairsAttempted != 3 || report.RepairsSuccessful != 2 || report.UnhealthyPost != 1 {
		t.Errorf("repair report: %+v", report)
	}
	report, err = deep.Check(ctx, s, s, tr.root, deep.CheckOptions{}, nil)
	if err != nil || report.Unhealthy != 1 {
		t.Errorf("after repair: %+v %v", report, err)
	}
}

func TestParseRoundTrip(t *testing.T) {
	nodes := fixedNodes(t)
	var s deep.Stats
	for _, n := range nodes {
		s.Add(n)
		got, err := deep.ParseStreamNode([]byte(deep.StreamLine(n)))
		if err != nil || deep.StreamLine(got) != deep.StreamLine(n) {
			t.Errorf("node %v: %v %v", n.Path, got, err)
		}
	}
	got, err := deep.ParseStats([]byte(s.JSON(true)))
	if err != nil || got.JSON(true) != s.JSON(true) {
		t.Errorf("stats round trip: %v\n%s", err, got.JSON(true))
	}
	for _, bad := range []string{"ERROR: x", `{"type": "weird", "cap": "URI:LIT:"}`} {
		if _, err := deep.ParseStreamNode([]byte(bad)); err == nil {
			t.Errorf("ParseStreamNode(%s) succeeded", bad)
		}
	}
	if _, err := deep.ParseStats([]byte(`{"size-files-histogram": [[10, 1, 1]]}`)); err == nil {
		t.Error("a backwards histogram range parsed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"path": ["a"], "cap": "URI:LIT:mfrgg", "type": "file"}`))
	f.Add([]byte(`{"api-version": 1, "count-files": 2, "size-files-histogram": [[1, 3, 1]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := deep.ParseStreamNode(b); err == nil && n.Type != "stats" {
			_ = deep.StreamLine(n)
		}
		if s, err := deep.ParseStats(b); err == nil {
			if _, err := deep.ParseStats([]byte(s.JSON(true))); err != nil {
				t.Fatalf("our own stats do not parse: %v", err)
			}
		}
	})
}

// BenchmarkManifest walks a tree of 10 immutable directories of 100 LIT
// files each (the walk and its bookkeeping, not share I/O, dominate).
func BenchmarkManifest(b *testing.B) {
	ctx := context.Background()
	s := localgridtest.New(b, localgridtest.Options{Servers: 3, Encoding: nodedir.Encoding{Needed: 1, Happy: 1, Total: 3, MaxSegmentSize: 128 << 10},
		Convergence: []byte("b"), LeaseSecret: []byte("b")}).Store
	var subs []dirnode.Entry
	for d := 0; d < 10; d++ {
		var files []dirnode.Entry
		for i := 0; i < 100; i++ {
			files = append(files, client.EntryFor(fmt.Sprintf("f%03d", i), caps.NewLIT([]byte(fmt.Sprint(d, i)))))
		}
		c, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: files})
		if err != nil {
			b.Fatal(err)
		}
		subs = append(subs, client.EntryFor(fmt.Sprintf("d%d", d), c))
	}
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: subs})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		nodes, _, err := deep.Manifest(ctx, s, root, deep.Options{})
		if err != nil || len(nodes) != 1011 {
			b.Fatal(len(nodes), err)
		}
	}
}

// TestDeepCheckAddLease is Tahoe's garbage-collection workflow, `tahoe
// deep-check --add-lease ALIAS:`: another client renewing through a deep
// check adds its lease to every immutable share container under the root.
func TestDeepCheckAddLease(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	s := g.Store
	tr := buildTree(t, s)
	other := client.NewStore(&client.Client{Servers: s.Client.Servers, Encoding: s.Client.Encoding,
		Convergence: []byte("deep"), LeaseSecret: []byte("another client")}, client.GridLocal)
	if _, err := deep.Check(ctx, other, other, tr.root, deep.CheckOptions{CheckOptions: health.CheckOptions{AddLease: true}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*caps.Cap{tr.a, tr.c, tr.x} {
		paths := g.ShareFiles(t, c, "*")
		if len(paths) != 5 {
			t.Fatalf("%d shares of %s", len(paths), caps.Base32Encode(c.StorageIndex))
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := binary.BigEndian.Uint32(b[8:12]); n != 2 {
				t.Errorf("%s has %d leases, want 2", p, n)
			}
		}
	}
}
