//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// names returns legal file names of every length from 1 to 255 bytes in
// several alphabets, plus awkward shapes.
func names() []string {
	var out []string
	units := []string{"a", "é", "日", "😀", " ", ":", "\n"}
	for _, u := range units {
		for n := 1; n <= 255; n++ {
			s := strings.Repeat(u, n/len(u))
			s += strings.Repeat("x", n-len(s))
			if s == "." || s == ".." {
				continue
			}
			out = append(out, s)
		}
	}
	for n := 1; n <= 255; n++ {
		out = append(out, "."+strings.Repeat("d", n-1)) // leading dot
	}
	out = append(out, "a:b", " lead", "trail ", "tab\there", "-dash", "..x", "x..")
	var clean []string
	for _, s := range out {
		if s != "." && s != ".." {
			clean = append(clean, s)
		}
	}
	return clean
}

func TestEveryLegalNameRoundTrips(t *testing.T) {
	dir := t.TempDir()
	for _, name := range names() {
		if len(name) > 255 {
			t.Fatalf("bad table: %d bytes", len(name))
		}
		target := filepath.Join(dir, name)
		for _, overwrite := range []bool{false, true} {
			f, err := Create(target, overwrite)
			if err != nil {
				t.Fatalf("Create(%q [%d bytes], %v): %v", name, len(name), overwrite, err)
			}
			if n := len(filepath.Base(f.Name())); n > 28 {
				t.Fatalf("temporary name of %d bytes", n)
			}
			fmt.Fprint(f, name)
			if err := f.Commit(); err != nil {
				t.Fatalf("Commit(%q [%d bytes]): %v", name, len(name), err)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != name {
				t.Fatalf("%q: read back %q, %v", name, b, err)
			}
		}
		if err := os.Remove(target); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func TestNewFileHonoursUmask(t *testing.T) {
	for _, mask := range []int{0o000, 0o002, 0o022, 0o027, 0o077, 0o277, 0o777} {
		for _, overwrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("umask=%03o/overwrite=%v", mask, overwrite), func(t *testing.T) {
				withUmask(t, mask)
				target := filepath.Join(t.TempDir(), "out")
				f, err := Create(target, overwrite)
				if err != nil {
					t.Fatal(err)
				}
				// The temporary file is never wider than the result.
				st, _ := f.Stat()
				want := os.FileMode(0o666 &^ mask)
				if st.Mode().Perm() != want {
					t.Fatalf("temporary mode %v, want %v", st.Mode().Perm(), want)
				}
				f.Write([]byte("x"))
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
				st, err = os.Stat(target)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != want {
					t.Fatalf("mode %v, want %v", st.Mode().Perm(), want)
				}
			})
		}
	}
}

func TestOverwriteKeepsMode(t *testing.T) {
	for _, mask := range []int{0o000, 0o022, 0o077} {
		for _, mode := range []os.FileMode{0o600, 0o640, 0o644, 0o666, 0o700, 0o755, 0o400, 0o604, 0o000} {
			t.Run(fmt.Sprintf("umask=%03o/mode=%v", mask, mode), func(t *testing.T) {
				withUmask(t, mask)
				target := filepath.Join(t.TempDir(), "out")
				if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(target, mode); err != nil {
					t.Fatal(err)
				}
				f, err := Create(target, true)
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte("new"))
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
				st, _ := os.Stat(target)
				if st.Mode().Perm() != mode {
					t.Fatalf("mode %v, want %v", st.Mode().Perm(), mode)
				}
				os.Chmod(target, 0o600)
				if b, _ := os.ReadFile(target); string(b) != "new" {
					t.Fatalf("content %q", b)
				}
			})
		}
	}
}

func TestOverwriteWritesThroughLinks(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string) (target, written string)
	}{
		{"link to file", func(dir string) (string, string) {
			os.WriteFile(filepath.Join(dir, "real"), []byte("old"), 0o640)
			os.Symlink("real", filepath.Join(dir, "link"))
			return "link", "real"
		}},
		{"chain of links", func(dir string) (string, string) {
			os.WriteFile(filepath.Join(dir, "real"), []byte("old"), 0o640)
			os.Symlink("real", filepath.Join(dir, "l1"))
			os.Symlink("l1", filepath.Join(dir, "l2"))
			os.Symlink(filepath.Join(dir, "l2"), filepath.Join(dir, "l3"))
			return "l3", "real"
		}},
		{"link into another directory", func(dir string) (string, string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.WriteFile(filepath.Join(dir, "sub", "real"), []byte("old"), 0o640)
			os.Symlink("sub/real", filepath.Join(dir, "link"))
			return "link", "sub/real"
		}},
		{"dangling link", func(dir string) (string, string) {
			os.Symlink("missing", filepath.Join(dir, "link"))
			return "link", "missing"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target, written := c.setup(dir)
			f, err := Create(filepath.Join(dir, target), true)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("new"))
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Lstat(filepath.Join(dir, target)); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("the link is gone: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(dir, written))
			if err != nil || string(b) != "new" {
				t.Fatalf("%s: %q, %v", written, b, err)
			}
			// Without overwrite, a link is an existing file.
			if _, err := Create(filepath.Join(dir, target), false); !errors.Is(err, ErrExists) {
				t.Fatalf("no-clobber through a link: %v", err)
			}
		})
	}
	t.Run("loop", func(t *testing.T) {
		dir := t.TempDir()
		os.Symlink("b", filepath.Join(dir, "a"))
		os.Symlink("a", filepath.Join(dir, "b"))
		if _, err := Create(filepath.Join(dir, "a"), true); err == nil {
			t.Fatal("a link loop was written")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		dir := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o644); err != nil {
			t.Skip(err)
		}
		if _, err := Create(filepath.Join(dir, "p"), true); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("fifo: %v", err)
		}
	})
}
