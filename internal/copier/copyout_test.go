package copier

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
)

// copyOutRows are the grid-to-local cases of Tahoe's cp tests
// (src/allmydata/test/cli/test_cp.py, CopyOut), written here as
// "[-r] SOURCES... TARGET : RESULT". The grid holds
//
//	P            a parent directory
//	P/dir = D    alias A: (D/file = F, a small file)
//	P/dir2/file2, P/dir3/file3, P/dir4/emptydir/
//	P/dir5 = D5, P/dir5/dir/collide holding "5"
//	P/dir6 = D6, P/dir6/dir/collide holding "6"
//
// and the local target "to" is an existing directory (with
// to/existing-file when a row names it). RESULT lists what is under to/
// afterwards (files holding the test text; "=5"/"=6" for the others), or
// an error class: E2 an unnamed file into a directory, E4 a directory
// without -r, E5 a directory onto a file, E6 several things onto a file,
// E7 a file target ending in a slash, E8 a file source ending in a slash,
// E9 two files for one name.
var copyOutRows = []string{
	"F to/existing-file : to/existing-file",
	"-r F to/existing-file : to/existing-file",
	"D/file P/dir2/file2 to/existing-file : E6",
	"D to/existing-file : E4",
	"-r D to/existing-file : E5",
	"-r F D to/existing-file : E6",
	"F to/existing-file/ : E7",
	"D/file P/dir2/file2 to/existing-file/ : E7",
	"D to/existing-file/ : E4",
	"-r D to/existing-file/ : E7",
	"-r F D to/existing-file/ : E7",
	"F to : E2",
	"D/file to : to/file",
	"D/file/ to : E8",
	"P/dir to : E4",
	"-r P/dir to : to/dir/file",
	"-r P/dir/ to : to/dir/file",
	"-r D to : to/file",
	"-r A: to : to/file",
	"F to/ : E2",
	"D/file to/ : to/file",
	"-r P/dir to/ : to/dir/file",
	"-r D to/ : to/file",
	"D/file P/dir2/file2 to : to/file,to/file2",
	"D/file F to : E2",
	"D F to : E4",
	"-r D F to : E2",
	"-r P/dir3/file3 D P/dir2 to : to/file3,to/file,to/dir2/file2",
	"-r P/dir3/file3 D P/dir2 F to : E2",
	"F to/missing : to/missing",
	"D/file to/missing : to/missing",
	"P/dir to/missing : E4",
	"-r P/dir to/missing : to/missing/dir/file",
	"-r D to/missing : to/missing/file",
	"-r A: to/missing : to/missing/file",
	"F to/missing/ : E7",
	"D/file to/missing/ : E7",
	"-r P/dir to/missing/ : to/missing/dir/file",
	"-r D to/missing/ : to/missing/file",
	"D/file P/dir2/file2 to/missing : to/missing/file,to/missing/file2",
	"D/file F to/missing : E2",
	"-r D F to/missing : E2",
	"-r P/dir3/file3 D P/dir2 to/missing : to/missing/file3,to/missing/file,to/missing/dir2/file2",
	"D/file P/dir2/file2 to/missing/ : to/missing/file,to/missing/file2",
	"-r P/dir3/file3 D P/dir2 to/missing/ : to/missing/file3,to/missing/file,to/missing/dir2/file2",
	"-r P/dir4 to : to/dir4/emptydir/",
	"-r P/dir4 to/ : to/dir4/emptydir/",
	"-r P/dir6/dir P/dir5/dir to : E9",
	"-r P/dir5/dir P/dir6/dir to : E9",
	"-r D6 D5 to : E9",
	"-r D5 D6 to : E9",
}

const fileText = "file text"

func TestCopyOutTable(t *testing.T) {
	ctx := context.Background()
	s := grid(t)
	mk := func(parent *caps.Cap, name string) *caps.Cap {
		d, err := s.Mkdir(ctx, filestore.MkdirOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if parent != nil {
			if err := s.Link(ctx, parent, name, d, false); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	put := func(dir *caps.Cap, name, text string) *caps.Cap {
		res, err := s.Upload(ctx, strings.NewReader(text), int64(len(text)), filestore.UploadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Link(ctx, dir, name, res.Cap, false); err != nil {
			t.Fatal(err)
		}
		return res.Cap
	}
	p := mk(nil, "")
	d := mk(p, "dir")
	f := put(d, "file", fileText)
	put(mk(p, "dir2"), "file2", fileText)
	put(mk(p, "dir3"), "file3", fileText)
	mk(mk(p, "dir4"), "emptydir")
	d5, d6 := mk(p, "dir5"), mk(p, "dir6")
	put(mk(d5, "dir"), "collide", "5")
	put(mk(d6, "dir"), "collide", "6")
	aliases := map[string]string{"A": d.String()}
	expand := strings.NewReplacer("P/", p.String()+"/", "D5", d5.String(), "D6", d6.String(), "D/", d.String()+"/")
	for _, row := range copyOutRows {
		t.Run(row, func(t *testing.T) {
			spec, want, _ := strings.Cut(row, " : ")
			args := strings.Fields(spec)
			recursive := args[0] == "-r"
			if recursive {
				args = args[1:]
			}
			base := t.TempDir()
			if err := os.Mkdir(filepath.Join(base, "to"), 0o755); err != nil {
				t.Fatal(err)
			}
			target := args[len(args)-1]
			if strings.TrimSuffix(target, "/") == "to/existing-file" {
				os.WriteFile(filepath.Join(base, "to", "existing-file"), []byte("existing file contents\n"), 0o644)
			}
			var srcs []location.Location
			for _, a := range args[:len(args)-1] {
				switch a {
				case "F":
					a = f.String()
				case "D":
					a = d.String()
				default:
					a = expand.Replace(a)
				}
				l, err := location.Parse(aliases, a)
				if err != nil {
					t.Fatal(err)
				}
				srcs = append(srcs, l)
			}
			dst := location.LocalPath(filepath.Join(base, target))
			if strings.HasSuffix(target, "/") {
				dst = location.LocalPath(filepath.Join(base, target) + "/")
			}
			k := &Copier{Store: s, Overwrite: true}
			_, err := k.Copy(ctx, srcs, dst, recursive)
			got := errorClass(err)
			if err == nil {
				got = listTo(t, filepath.Join(base, "to"))
			} else if got == "" {
				t.Fatalf("unexpected error %v", err)
			}
			if got != normalize(want) {
				t.Fatalf("got %s, want %s", got, normalize(want))
			}
		})
	}
}

func errorClass(err error) string {
	switch {
	case err == nil:
		return ""
	case strings.Contains(err.Error(), "all source files must have names"):
		return "E2"
	case errors.Is(err, ErrNeedRecursive):
		return "E4"
	case errors.Is(err, ErrDirToFile):
		return "E5"
	case errors.Is(err, ErrMultiToFile):
		return "E6"
	case errors.Is(err, ErrTrailingSlash):
		return "E7"
	case strings.HasPrefix(err.Error(), "source ") && strings.Contains(err.Error(), "is not a directory, but ends with a slash"):
		return "E8"
	case errors.Is(err, ErrCollision):
		return "E9"
	}
	return ""
}

// listTo lists what is under top as the table writes it: "to/" and every
// directory with a slash, files holding the test text by name, the
// collide files as name=5 or name=6.
func listTo(t *testing.T, top string) string {
	var out []string
	filepath.WalkDir(top, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Dir(top), p)
		if e.IsDir() {
			out = append(out, rel+"/")
			return nil
		}
		b, _ := os.ReadFile(p)
		switch string(b) {
		case fileText:
			out = append(out, rel)
		case "5", "6":
			out = append(out, rel+"="+string(b))
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, ",")
}

// normalize adds every parent directory of a result's paths, with "to/".
func normalize(want string) string {
	if strings.HasPrefix(want, "E") {
		return want
	}
	set := map[string]bool{"to/": true}
	for _, w := range strings.Split(want, ",") {
		set[w] = true
		parts := strings.Split(strings.TrimSuffix(w, "/"), "/")
		for i := 1; i < len(parts); i++ {
			set[strings.Join(parts[:i], "/")+"/"] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
