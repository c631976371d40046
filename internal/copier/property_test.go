//go:build unix

package copier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/lafs/lafs/internal/command/location"
)

// legalNames are file names of every length from 1 to 255 bytes made of
// one unit (ASCII, 2-, 3- and 4-byte UTF-8, space, colon, newline), padded
// to the exact length with 'x'. All are NFC, so the grid keeps them as
// they are (it normalizes names to NFC, as Tahoe does).
func legalNames(unit string) []string {
	var out []string
	for n := 1; n <= 255; n++ {
		s := strings.Repeat(unit, n/len(unit))
		s += strings.Repeat("x", n-len(s))
		if s == "." || s == ".." {
			s = s + "x"
		}
		out = append(out, s)
	}
	return out
}

func TestEveryLegalNameRoundTripsThroughCp(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	units := map[string]string{"ascii": "a", "latin": "é", "cjk": "日", "emoji": "😀", "space": " ", "colon": ":", "newline": "\n", "dot": "."}
	for label, unit := range units {
		t.Run(label, func(t *testing.T) {
			src := filepath.Join(fx.local, label)
			os.Mkdir(src, 0o755)
			names := legalNames(unit)
			names = append(names, ".hidden", " lead", "trail ", "-x", "a:b", "URI:CHK:x")
			for i, n := range names {
				if err := os.WriteFile(filepath.Join(src, n), []byte(fmt.Sprint(i)), 0o644); err != nil {
					t.Fatalf("%q: %v", n, err)
				}
			}
			k := &Copier{Store: fx.s, Overwrite: true}
			if _, err := k.Copy(ctx, []location.Location{location.LocalPath(src)}, fx.loc("r:"), true); err != nil {
				t.Fatal(err)
			}
			back := t.TempDir()
			if _, err := k.Copy(ctx, []location.Location{fx.loc("r:" + label)}, location.LocalPath(back), true); err != nil {
				t.Fatal(err)
			}
			for i, n := range names {
				b, err := os.ReadFile(filepath.Join(back, label, n))
				if err != nil || string(b) != fmt.Sprint(i) {
					t.Fatalf("%q (%d bytes): %q, %v", n, len(n), b, err)
				}
			}
			got, _ := os.ReadDir(filepath.Join(back, label))
			if len(got) != len(names) {
				t.Fatalf("%d files back, want %d (temporary files left?)", len(got), len(names))
			}
			// One file at a time, both ways, to a name of its own (put/get).
			for _, n := range []string{names[254], names[253], "./a:b"[2:]} {
				one := filepath.Join(src, n)
				if _, err := k.Copy(ctx, []location.Location{location.LocalPath(one)}, fx.loc("r:single"), false); err != nil {
					t.Fatalf("put %q: %v", n, err)
				}
				out := filepath.Join(t.TempDir(), n)
				if _, err := k.Copy(ctx, []location.Location{fx.loc("r:single")}, location.LocalPath(out), false); err != nil {
					t.Fatalf("get %q: %v", n, err)
				}
				a, _ := os.ReadFile(one)
				b, err := os.ReadFile(out)
				if err != nil || string(a) != string(b) {
					t.Fatalf("%q: %q vs %q, %v", n, a, b, err)
				}
			}
		})
	}
}

// linkTree builds a local tree with every kind of entry cp meets and
// returns what should be skipped (relative path -> reason fragment).
func linkTree(t *testing.T, root string) map[string]string {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sub", "deep"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "..", "outside"), 0o755))
	must(os.WriteFile(filepath.Join(root, "file"), []byte("file"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "deep", "f"), []byte("deep"), 0o644))
	must(os.WriteFile(filepath.Join(root, "..", "outside", "o"), []byte("outside"), 0o644))
	must(os.Symlink("file", filepath.Join(root, "to-file")))
	must(os.Symlink("sub", filepath.Join(root, "to-dir")))
	must(os.Symlink("../outside", filepath.Join(root, "to-outside")))
	must(os.Symlink("to-file", filepath.Join(root, "to-link")))
	must(os.Symlink("missing", filepath.Join(root, "dangling")))
	must(os.Symlink("self", filepath.Join(root, "self")))
	must(os.Symlink("..", filepath.Join(root, "sub", "deep", "up")))     // to an ancestor
	must(os.Symlink("../..", filepath.Join(root, "sub", "deep", "top"))) // to the root
	must(syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	l, err := net.Listen("unix", filepath.Join(root, "sock"))
	must(err)
	t.Cleanup(func() { l.Close() })
	return map[string]string{
		"dangling":    "dangling",
		"self":        "loop",
		"sub/deep/up": "loop", "sub/deep/top": "loop",
		"to-dir/deep/up": "loop", "to-dir/deep/top": "loop", // the same, met through to-dir
		"fifo": "FIFO", "sock": "socket",
	}
}

func TestCpFollowsLinksAndSkipsWhatCannotBeStored(t *testing.T) {
	ctx := context.Background()
	wantFiles := map[string]string{
		"file": "file", "to-file": "file", "to-link": "file",
		"sub/deep/f": "deep", "to-dir/deep/f": "deep", "to-outside/o": "outside",
	}
	shapes := []struct {
		name string
		run  func(fx *fixture, k *Copier, root string) (string, error) // returns the grid dir that holds the tree
	}{
		{"into a missing grid directory", func(fx *fixture, k *Copier, root string) (string, error) {
			_, err := k.Copy(ctx, []location.Location{location.LocalPath(root)}, fx.loc("r:"), true)
			return "tree", err
		}},
		{"merging into an existing grid directory", func(fx *fixture, k *Copier, root string) (string, error) {
			if _, err := k.Copy(ctx, []location.Location{location.LocalPath(filepath.Join(root, "file"))}, fx.loc("r:tree/file"), false); err != nil {
				return "", err
			}
			_, err := k.Copy(ctx, []location.Location{location.LocalPath(root)}, fx.loc("r:"), true)
			return "tree", err
		}},
		{"with a second source", func(fx *fixture, k *Copier, root string) (string, error) {
			other := filepath.Join(filepath.Dir(root), "other")
			os.Mkdir(other, 0o755)
			_, err := k.Copy(ctx, []location.Location{location.LocalPath(root), location.LocalPath(other)}, fx.loc("r:both"), true)
			return "both/tree", err
		}},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			fx := newFixture(t)
			root := filepath.Join(fx.local, "top", "tree")
			os.MkdirAll(root, 0o755)
			skips := linkTree(t, root)
			var warnings []string
			k := &Copier{Store: fx.s, Overwrite: true, Warn: func(m string) { warnings = append(warnings, m) }}
			at, err := sh.run(fx, k, root)
			var se *SkippedError
			if !errors.As(err, &se) || !errors.Is(err, ErrSkipped) {
				t.Fatalf("Copy: %v, want a SkippedError", err)
			}
			if len(warnings) != len(skips) || len(se.Items) != len(skips) {
				t.Fatalf("warnings %q, items %q; want one for each of %v", warnings, se.Items, skips)
			}
			for rel, why := range skips {
				found := false
				for _, w := range warnings {
					if strings.Contains(w, filepath.Join(root, rel)+": ") && strings.Contains(w, why) {
						found = true
					}
				}
				if !found {
					t.Errorf("no warning for %s (%s) in %q", rel, why, warnings)
				}
				if fx.kind(at+"/"+rel) != "missing" {
					t.Errorf("%s was stored", rel)
				}
			}
			// Everything else arrived, links followed; download and compare.
			back := t.TempDir()
			if _, err := k.Copy(ctx, []location.Location{fx.loc("r:" + at)}, location.LocalPath(back), true); err != nil {
				t.Fatal(err)
			}
			var got []string
			filepath.Walk(back, func(p string, info os.FileInfo, err error) error {
				if err == nil && info.Mode().IsRegular() {
					rel, _ := filepath.Rel(back, p)
					got = append(got, rel)
				}
				return nil
			})
			sort.Strings(got)
			var want []string
			for rel := range wantFiles {
				want = append(want, filepath.Join("tree", rel))
			}
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("downloaded %v, want %v", got, want)
			}
			for rel, content := range wantFiles {
				if b, _ := os.ReadFile(filepath.Join(back, "tree", rel)); string(b) != content {
					t.Errorf("%s: %q, want %q", rel, b, content)
				}
			}
		})
	}
}

func TestCpSourceSpecialFileIsRefused(t *testing.T) {
	fx := newFixture(t)
	fifo := filepath.Join(fx.local, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	k := &Copier{Store: fx.s}
	_, err := k.Copy(context.Background(), []location.Location{location.LocalPath(fifo)}, fx.loc("r:x"), false)
	if err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Fatalf("a FIFO source: %v", err)
	}
}

func TestCpToLocalWritesThroughLinks(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	fx.write("a", "new contents")
	k := &Copier{Store: fx.s, Overwrite: true}
	if _, err := k.Copy(ctx, []location.Location{location.LocalPath(filepath.Join(fx.local, "a"))}, fx.loc("r:a"), false); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "real"), []byte("old"), 0o600)
	os.Symlink("real", filepath.Join(out, "link"))
	if _, err := k.Copy(ctx, []location.Location{fx.loc("r:a")}, location.LocalPath(filepath.Join(out, "link")), false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "real")); string(b) != "new contents" {
		t.Fatalf("the link's target holds %q", b)
	}
	if st, _ := os.Lstat(filepath.Join(out, "link")); st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if st, _ := os.Stat(filepath.Join(out, "real")); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600 kept", st.Mode().Perm())
	}
}
