package location

import (
	"errors"
	"testing"

	"github.com/lafs/lafs/pkg/nodedir"
)

const (
	dirCap  = "URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"
	roCap   = "URI:DIR2-RO:4jizhmespzudyajo5l7xw6cil4:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"
	litCap  = "URI:LIT:nbswy3dp"
	aliasOK = "home"
)

var aliases = map[string]string{aliasOK: dirCap, nodedir.DefaultAlias: roCap}

// TestParse pins Tahoe's rule (scripts/common.py get_alias with no
// default, as tahoe cp uses it) for every way an argument can look, and so
// what put, cp, mv and the copier all make of it.
func TestParse(t *testing.T) {
	cases := []struct {
		arg       string
		kind      Kind
		root, rel string // grid
		local     string // local
		slash     bool
		dirish    bool
		base      string
		err       string // substring; "alias" means an UnknownAliasError
	}{
		// The put/cp inconsistency of the review: "foo:bar" with no alias
		// foo is an unknown alias for both, never a local file.
		{arg: "foo:bar", err: "alias"},
		{arg: "foo:", err: "alias"},
		{arg: "home:bar", kind: Grid, root: dirCap, rel: "bar", base: "bar"},
		{arg: "home:", kind: Grid, root: dirCap, dirish: true},
		{arg: "home:a/b/", kind: Grid, root: dirCap, rel: "a/b", slash: true, dirish: true, base: "b"},
		{arg: "home:a//b", kind: Grid, root: dirCap, rel: "a//b", base: "b"},
		// A slash before the colon, or no colon: local.
		{arg: "./foo:bar", kind: Local, local: "./foo:bar", base: "foo:bar"},
		{arg: "dir/x:7", kind: Local, local: "dir/x:7", base: "x:7"},
		{arg: "a.txt", kind: Local, local: "a.txt", base: "a.txt"},
		{arg: "tree/", kind: Local, local: "tree/", slash: true, dirish: true, base: "tree"},
		{arg: ".", kind: Local, local: ".", dirish: true},
		{arg: "/", kind: Local, local: "/", slash: true, dirish: true},
		{arg: "-", kind: Std},
		// Caps, with either subpath form; the prefix list is nodedir's.
		{arg: dirCap, kind: Grid, root: dirCap, dirish: true},
		{arg: dirCap + ":./sub/f", kind: Grid, root: dirCap, rel: "sub/f", base: "f"},
		{arg: dirCap + "/sub/f", kind: Grid, root: dirCap, rel: "sub/f", base: "f"},
		{arg: "ro." + roCap + "/x", kind: Grid, root: roCap, rel: "x", base: "x"},
		{arg: "ro." + dirCap + "/x", err: "read-only"},
		{arg: litCap, kind: Grid, root: litCap, base: ""},
		{arg: litCap + "/x", err: "is a file cap"},
		{arg: "URI:bogus/x", kind: Grid, root: "URI:bogus", rel: "x", base: "x"}, // a cap of a later kind
		// Paths that would climb: refused.
		{arg: "home:a/../b", err: `no ".."`},
		{arg: "home:./a", err: `no "."`},
		{arg: "home:/abs", err: "must not start with a slash"},
	}
	for _, tc := range cases {
		t.Run(tc.arg, func(t *testing.T) {
			l, err := Parse(aliases, tc.arg)
			if tc.err != "" || tc.kind == 0 {
				var ua *nodedir.UnknownAliasError
				switch {
				case err == nil:
					t.Fatalf("no error; got %v %q", l.Kind(), l)
				case tc.err == "alias" && !errors.As(err, &ua):
					t.Fatalf("error %v, want an unknown alias", err)
				case tc.err != "alias" && !contains(err.Error(), tc.err):
					t.Fatalf("error %q, want %q in it", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Kind() != tc.kind {
				t.Fatalf("kind %v, want %v", l.Kind(), tc.kind)
			}
			if tc.kind == Grid {
				if got := l.Path().Root.String(); got != tc.root && "ro."+got != tc.root {
					t.Errorf("root %s, want %s", got, tc.root)
				}
				if l.Path().Rel != tc.rel {
					t.Errorf("rel %q, want %q", l.Path().Rel, tc.rel)
				}
			}
			if tc.kind == Local && l.LocalName() != tc.local {
				t.Errorf("local %q, want %q", l.LocalName(), tc.local)
			}
			if l.TrailingSlash() != tc.slash {
				t.Errorf("slash %v, want %v", l.TrailingSlash(), tc.slash)
			}
			if l.Directoryish() != tc.dirish {
				t.Errorf("directoryish %v, want %v", l.Directoryish(), tc.dirish)
			}
			if l.Base() != tc.base {
				t.Errorf("base %q, want %q", l.Base(), tc.base)
			}
			if l.String() != tc.arg {
				t.Errorf("String %q, want the argument", l.String())
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestParseGrid: a bare path is in the default alias (Tahoe's commands
// other than cp).
func TestParseGrid(t *testing.T) {
	l, err := ParseGrid(aliases, "docs/a")
	if err != nil {
		t.Fatal(err)
	}
	if !l.IsGrid() || l.Path().Root.String() != roCap || l.Path().Rel != "docs/a" {
		t.Fatalf("got %v %v %q", l.Kind(), l.Path().Root, l.Path().Rel)
	}
	if _, err := ParseGrid(map[string]string{}, "docs/a"); err == nil {
		t.Fatal("a bare path with no 'tahoe' alias parsed")
	}
}

func TestParseLocal(t *testing.T) {
	for arg, want := range map[string]Kind{"": Std, "-": Std, "foo:bar": Local, "out.bin": Local} {
		if got := ParseLocal(arg).Kind(); got != want {
			t.Errorf("%q: %v, want %v", arg, got, want)
		}
	}
}

func TestJoin(t *testing.T) {
	l, _ := Parse(aliases, "home:")
	j := l.Join("a").Join("b")
	if j.String() != "home:a/b" || j.Path().Rel != "a/b" || j.Base() != "b" {
		t.Fatalf("joined %q rel %q", j, j.Path().Rel)
	}
	loc := LocalPath("tree").Join("f")
	if loc.LocalName() != "tree/f" || loc.Base() != "f" {
		t.Fatalf("local join %q", loc.LocalName())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"home:a/b", "foo:bar", "./x:y", "-", dirCap + ":./a", litCap + "/x", "home:../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		l, err := Parse(aliases, arg)
		if err != nil {
			return
		}
		_ = l.Base()
		_ = l.Directoryish()
		if l.IsGrid() && l.Path().Root == nil {
			t.Fatalf("%q: grid location without a root", arg)
		}
	})
}
