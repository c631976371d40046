package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCommitAbortNoClobber(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	f, err := Create(target, false)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("partial"))
	f.Abort()
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("aborted file exists")
	}
	f, _ = Create(target, false)
	f.Write([]byte("one"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(target, false); !errors.Is(err, ErrExists) {
		t.Fatalf("existing target: %v", err)
	}
	f, _ = Create(target, true)
	f.Write([]byte("two"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
