package disk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestMoveNoReplace: both ways of publishing (renameat2 where the system
// has it, link and remove everywhere) move the file, and refuse with
// fs.ErrExist, leaving both files as they were, when the target exists.
func TestMoveNoReplace(t *testing.T) {
	for name, move := range map[string]func(string, string) error{
		"rename":          renameNoReplace,
		"link and remove": linkAndRemove,
		"chosen":          moveNoReplace,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			if err := os.WriteFile(src, []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := move(src, dst)
			if errors.Is(err, errUnsupported) {
				t.Skip("not on this system")
			}
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("move over an existing file: %v, want ErrExist", err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "old" {
				t.Errorf("target became %q", b)
			}
			if b, _ := os.ReadFile(src); string(b) != "new" {
				t.Errorf("source became %q", b)
			}
			if err := os.Remove(dst); err != nil {
				t.Fatal(err)
			}
			if err := move(src, dst); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(dst); string(b) != "new" {
				t.Errorf("moved file holds %q", b)
			}
			if _, err := os.Stat(src); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("source still there: %v", err)
			}
		})
	}
}
