package checkcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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

type fixture struct {
	grid  *localgridtest.Grid
	store *client.Store
	env   Env
	out   *bytes.Buffer
	// The tree (all immutable, so every cap is the same on every run):
	// root/{big (CHK 300000), small (LIT), docs/{a (CHK 1000), b (CHK 2000)}}
	root, big, small, docs, a, b *caps.Cap
}

var fixedMetadata = json.RawMessage(`{"tahoe": {"linkcrtime": 1700000000.0, "linkmotime": 1700000000.0}}`)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	g := localgridtest.New(t, localgridtest.Options{Servers: 10, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 128 << 10},
		Convergence: []byte("checkcli golden"), LeaseSecret: []byte("lease")})
	s := g.Store
	f := &fixture{grid: g, store: s, out: &bytes.Buffer{}}
	up := func(n int, b byte) *caps.Cap {
		r, err := s.Upload(ctx, bytes.NewReader(bytes.Repeat([]byte{b}, n)), int64(n), filestore.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Cap
	}
	entry := func(name string, c *caps.Cap) dirnode.Entry {
		return dirnode.Entry{Name: name, ROCap: c.String(), Metadata: fixedMetadata}
	}
	mkdir := func(es ...dirnode.Entry) *caps.Cap {
		c, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: es})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.big, f.small, f.a, f.b = up(300000, 'B'), up(20, 's'), up(1000, 'a'), up(2000, 'b')
	f.docs = mkdir(entry("a", f.a), entry("b", f.b))
	f.root = mkdir(entry("big", f.big), entry("small", f.small), entry("docs", f.docs))
	f.env = Env{Store: s, Aliases: map[string]string{"tahoe": f.root.String(), "home": f.root.String()}, Stdout: f.out, Stderr: f.out}
	return f
}

func (f *fixture) removeShares(t *testing.T, c *caps.Cap, shares ...string) {
	t.Helper()
	si := caps.Base32Encode(c.StorageIndex)
	for _, sh := range shares {
		m := f.grid.ShareFiles(t, c, sh)
		if len(m) != 1 {
			t.Fatalf("share %s of %s: %v", sh, si, m)
		}
		if err := os.Remove(m[0]); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) take() string {
	s := f.out.String()
	f.out.Reset()
	return s
}

func TestTahoeCheckGolden(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := TahoeCheck(ctx, f.env, []string{"big", "small", "home:docs", f.a.String()}, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	f.removeShares(t, f.big, "0", "3", "6", "9")
	if err := TahoeCheck(ctx, f.env, []string{"big"}, CheckOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	if err := TahoeCheck(ctx, f.env, []string{"big"}, CheckOptions{Repair: true}); err != nil {
		t.Fatal(err)
	}
	if err := TahoeCheck(ctx, f.env, []string{"big"}, CheckOptions{Repair: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "check.txt", f.take())

	if err := TahoeCheck(ctx, f.env, []string{"big"}, CheckOptions{Raw: true}); err != nil {
		t.Fatal(err)
	}
	raw := f.take()
	if !strings.HasSuffix(raw, "}\n\n") {
		t.Errorf("--raw does not end as Tahoe's does: %q", raw[len(raw)-5:])
	}
	r, err := health.ParseResults([]byte(raw))
	if err != nil || !r.Healthy || r.SharesGood != 10 {
		t.Errorf("--raw: %+v %v", r, err)
	}
	if err := TahoeCheck(ctx, f.env, []string{"nope:x"}, CheckOptions{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown alias: %v", err)
	}
	if err := TahoeCheck(ctx, f.env, []string{"docs/missing"}, CheckOptions{}); !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("missing child: %v", err)
	}
}

func TestTahoeDeepCheckManifestStatsGolden(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := TahoeDeepCheck(ctx, f.env, nil, DeepCheckOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	f.removeShares(t, f.a, "1", "2")
	f.removeShares(t, f.docs, "5")
	if err := TahoeDeepCheck(ctx, f.env, []string{"tahoe:"}, DeepCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := TahoeDeepCheck(ctx, f.env, []string{"tahoe:"}, DeepCheckOptions{CheckOptions: CheckOptions{Repair: true, Verify: true}, Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if err := TahoeDeepCheck(ctx, f.env, nil, DeepCheckOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "deep-check.txt", f.take())

	if err := TahoeDeepCheck(ctx, f.env, []string{"docs"}, DeepCheckOptions{CheckOptions: CheckOptions{Raw: true}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(f.take(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], `{"type": "stats", "stats": {"api-version": 1,`) || !strings.Contains(lines[1], `"path": ["a"]`) {
		t.Errorf("deep-check --raw:\n%s", strings.Join(lines, "\n"))
	}

	for _, o := range []ManifestOptions{{}, {Field: deep.ManifestStorageIndex}, {Field: deep.ManifestVerifyCap}, {Field: deep.ManifestRepairCap}, {Raw: true}} {
		if err := TahoeManifest(ctx, f.env, "", o); err != nil {
			t.Fatal(err)
		}
	}
	if err := TahoeStats(ctx, f.env, "", false); err != nil {
		t.Fatal(err)
	}
	if err := TahoeStats(ctx, f.env, "tahoe:", true); err != nil {
		t.Fatal(err)
	}
	golden(t, "manifest-stats.txt", f.take())
}

func TestLafsCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := LafsCheck(ctx, f.env, []string{"home:", "home:big"}, LafsOptions{}); err != nil {
		t.Fatal(err)
	}
	f.removeShares(t, f.b, "4", "7")
	objects := 0
	err := LafsCheck(ctx, f.env, []string{"home:"}, LafsOptions{Recursive: true, OnObject: func() { objects++ }})
	if !errors.Is(err, ErrUnhealthy) || objects != 6 {
		t.Errorf("unhealthy tree: %v, %d objects", err, objects)
	}
	if err := LafsCheck(ctx, f.env, []string{"home:"}, LafsOptions{Recursive: true, Repair: true, Verify: true}); err != nil {
		t.Errorf("repair: %v", err)
	}
	golden(t, "lafs-check.txt", f.take())
	if err := LafsCheck(ctx, f.env, []string{"home:docs/b"}, LafsOptions{JSON: true}); err != nil {
		t.Fatal(err)
	}
	var row LafsRow
	if err := json.Unmarshal(f.out.Bytes(), &row); err != nil || !row.Healthy || row.SharesGood != 10 || row.Path != "home:docs/b" {
		t.Errorf("--json: %s %v", f.out.String(), err)
	}
}

// noChecker is a store that cannot check.
type noChecker struct{ filestore.Store }

func TestStoreWithoutChecker(t *testing.T) {
	f := newFixture(t)
	env := f.env
	env.Store = noChecker{f.store}
	if err := TahoeCheck(context.Background(), env, nil, CheckOptions{}); !errors.Is(err, ErrCannotCheck) {
		t.Errorf("check: %v", err)
	}
	// Manifests and stats need only the store.
	if err := TahoeStats(context.Background(), env, "", false); err != nil {
		t.Errorf("stats: %v", err)
	}
}
