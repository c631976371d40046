// Package safefile writes an output file so that a failure never leaves a
// half-written file behind and never clobbers an existing one unless asked:
// data goes to a temporary file beside the target, which replaces (or,
// without overwrite, is hard-linked as) the target only on Commit.
package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned when the target exists and overwriting was not
// allowed.
var ErrExists = errors.New("file exists")

// ErrIsDir is returned when the target is a directory (whatever
// overwrite says: a file never replaces a directory).
var ErrIsDir = errors.New("is a directory")

// File is an output file being written.
type File struct {
	*os.File
	target    string
	overwrite bool
	done      bool
}

// Create starts writing target. Without overwrite, an existing target is
// an error now and at Commit.
func Create(target string, overwrite bool) (*File, error) {
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: %w", target, ErrIsDir)
	}
	if !overwrite {
		if _, err := os.Lstat(target); err == nil {
			return nil, fmt.Errorf("%s: %w (use --force to overwrite it)", target, ErrExists)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".part-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", target, err)
	}
	return &File{File: tmp, target: target, overwrite: overwrite}, nil
}

// Commit makes the written data the target file.
func (f *File) Commit() error {
	if f.done {
		return errors.New("safefile: already finished")
	}
	f.done = true
	tmp := f.File.Name()
	defer os.Remove(tmp)
	// No fsync: like cp and Tahoe's own get, durability is left to the
	// file system; the rename alone guarantees no partial file is seen.
	if err := f.File.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", f.target, err)
	}
	if err := os.Chmod(tmp, 0o644&^umask()); err != nil {
		return fmt.Errorf("writing %s: %w", f.target, err)
	}
	if f.overwrite {
		if err := os.Rename(tmp, f.target); err != nil {
			return fmt.Errorf("writing %s: %w", f.target, err)
		}
		return nil
	}
	if err := os.Link(tmp, f.target); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w (use --force to overwrite it)", f.target, ErrExists)
		}
		return fmt.Errorf("writing %s: %w", f.target, err)
	}
	return nil
}

// Abort discards what was written; the target is untouched.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

func umask() os.FileMode {
	return 0o022 // conservative default; os has no portable umask query
}
