package filestore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid/localgridtest"
	"github.com/lafs/lafs/pkg/nodedir"
)

// store is a direct store over a fresh embedded grid of 4 servers (2-of-4).
func store(t *testing.T) filestore.Store {
	t.Helper()
	g := localgridtest.New(t, localgridtest.Options{Servers: 4, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20},
		Convergence: []byte("c"), LeaseSecret: []byte("l")})
	s := g.Store
	return s
}

func TestParsePath(t *testing.T) {
	dir := "URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"
	aliases := map[string]string{"home": dir, "tahoe": dir}
	for _, tc := range []struct {
		arg, rel, err string
	}{
		{arg: "home:", rel: ""},
		{arg: "home:a/b/", rel: "a/b"},
		{arg: "home:a", rel: "a"},
		{arg: "a/b", rel: "a/b"}, // the default alias, tahoe:
		{arg: dir + ":./x/y", rel: "x/y"},
		{arg: dir + "/x", rel: "x"},
		{arg: "nope:x", err: "Unknown alias"},
		{arg: "home:/abs", err: "must not start with a slash"},
	} {
		p, err := filestore.ParsePath(aliases, tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || p.Rel != tc.rel || p.Root.String() != dir {
			t.Errorf("%q: %+v %v, want rel %q", tc.arg, p, err, tc.rel)
		}
	}
}

func TestMkdirAllParentLookupFile(t *testing.T) {
	ctx := context.Background()
	s := store(t)
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := filestore.Path{Root: root, Rel: "a/b/c"}
	c1, err := filestore.MkdirAll(ctx, s, p, filestore.FormatMDMF)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Kind != caps.KindDIR2MDMF {
		t.Errorf("new directory is %s, want MDMF", c1.Kind)
	}
	c2, err := filestore.MkdirAll(ctx, s, p, filestore.FormatSDMF)
	if err != nil || c2.String() != c1.String() {
		t.Fatalf("second MkdirAll: %v %v, want the same directory %v", c2, err, c1)
	}
	res, err := s.Upload(ctx, bytes.NewReader([]byte("a small file, but more than fifty-five bytes long, so CHK")), 57, filestore.UploadOptions{})
	if err != nil || !res.Created || res.Placement == nil {
		t.Fatalf("upload: %+v %v", res, err)
	}
	if err := s.Link(ctx, c1, "f", res.Cap, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, c1, "f", res.Cap, false); !errors.Is(err, filestore.ErrExists) {
		t.Errorf("second link: %v, want ErrExists", err)
	}
	dir, name, err := filestore.Parent(ctx, s, p.Join("f"))
	if err != nil || name != "f" || dir.String() != c1.String() {
		t.Fatalf("Parent: %v %q %v", dir, name, err)
	}
	aliases := map[string]string{"home": root.String()}
	got, err := filestore.LookupFile(ctx, s, aliases, "home:a/b/c/f")
	if err != nil || got.String() != res.Cap.String() {
		t.Fatalf("LookupFile: %v %v", got, err)
	}
	if _, err := filestore.LookupFile(ctx, s, aliases, "home:a/b"); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("LookupFile of a directory: %v", err)
	}
	if _, err := filestore.LookupFile(ctx, s, aliases, "home:a/nope"); !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("LookupFile of a missing name: %v, want ErrNotFound", err)
	}
	if _, err := filestore.MkdirAll(ctx, s, p.Join("f").Join("g"), filestore.FormatSDMF); !errors.Is(err, filestore.ErrNotDirectory) {
		t.Errorf("MkdirAll through a file: %v, want ErrNotDirectory", err)
	}
	if _, _, err := filestore.Parent(ctx, s, p.Join("f").Join("g")); !errors.Is(err, filestore.ErrNotDirectory) {
		t.Errorf("Parent through a file: %v, want ErrNotDirectory", err)
	}
}

func TestMove(t *testing.T) {
	ctx := context.Background()
	s := store(t)
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(rel string) filestore.Path { return filestore.Path{Root: root, Rel: rel} }
	for _, d := range []string{"d/e/f", "other"} {
		if _, err := filestore.MkdirAll(ctx, s, at(d), filestore.FormatSDMF); err != nil {
			t.Fatal(err)
		}
	}
	file := caps.NewLIT([]byte("x"))
	d, _ := filestore.Lookup(ctx, s, at("d"))
	if err := s.Link(ctx, d, "file", file, false); err != nil {
		t.Fatal(err)
	}
	// A directory into itself or anywhere below it is refused, and nothing
	// changes.
	for _, dst := range []string{"d", "d/x", "d/e", "d/e/x", "d/e/f", "d/e/f/x"} {
		if _, err := filestore.Move(ctx, s, at("d"), at(dst), filestore.MoveOptions{}); err == nil || !strings.Contains(err.Error(), "into itself") {
			t.Errorf("move d → %s: %v, want a refusal", dst, err)
		}
	}
	if _, err := filestore.Lookup(ctx, s, at("d/e/f")); err != nil {
		t.Fatalf("d/e/f lost after refused moves: %v", err)
	}
	// A file moves into an existing directory under its own name.
	to, err := filestore.Move(ctx, s, at("d/file"), at("other"), filestore.MoveOptions{})
	if err != nil || to.Rel != "other/file" {
		t.Fatalf("move into a directory: %v %v", to, err)
	}
	if _, err := filestore.Lookup(ctx, s, at("d/file")); !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("source still linked: %v", err)
	}
	// Onto itself: nothing happens, nothing is lost.
	if _, err := filestore.Move(ctx, s, at("other/file"), at("other/file"), filestore.MoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Lookup(ctx, s, at("other/file")); err != nil {
		t.Fatalf("moving onto itself lost the file: %v", err)
	}
	// A copy (ln) keeps the source; an existing target needs Replace.
	if _, err := filestore.Move(ctx, s, at("other/file"), at("d/copy"), filestore.MoveOptions{Copy: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Move(ctx, s, at("other/file"), at("d/copy"), filestore.MoveOptions{}); !errors.Is(err, filestore.ErrExists) {
		t.Errorf("move over an existing name: %v, want ErrExists", err)
	}
	if _, err := filestore.Move(ctx, s, at("other/file"), at("d/copy"), filestore.MoveOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	es, err := s.ReadDir(ctx, d)
	if err != nil || len(es) != 2 {
		t.Fatalf("d holds %v %v, want e and copy", es, err)
	}
	// A directory moves to a new name, and its children come with it.
	if _, err := filestore.Move(ctx, s, at("d/e"), at("other/e2"), filestore.MoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Lookup(ctx, s, at("other/e2/f")); err != nil {
		t.Fatal(err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]filestore.Format{"": filestore.FormatDefault, "chk": filestore.FormatCHK, "SDMF": filestore.FormatSDMF, "mDmF": filestore.FormatMDMF} {
		if got, err := filestore.ParseFormat(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := filestore.ParseFormat("zip"); err == nil {
		t.Error("zip accepted")
	}
}
