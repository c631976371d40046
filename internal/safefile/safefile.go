// Package safefile writes an output file so that a failure never leaves a
// half-written file behind and never clobbers an existing one unless asked:
// data goes to a temporary file beside the target, which replaces (or,
// without overwrite, is hard-linked as) the target only on Commit.
//
// The temporary file has a short name of its own, never derived from the
// target's, so any name the file system accepts can be written. A new file
// gets the mode 0666 less the process's umask, as open(2) gives it; an
// overwritten file keeps its mode. Overwriting through a symbolic link
// writes the file the link points at, as Tahoe's `tahoe get` (Python's
// open(path, "wb")) does, and leaves the link in place.
//
// It does not fsync, lock, or write anything but regular files.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
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

// ErrNotRegular is returned when overwriting was asked for but the target
// is neither a regular file nor a link to one (a FIFO, device or socket).
var ErrNotRegular = errors.New("not a regular file")

// maxLinks bounds how many symbolic links Create follows, as the kernel's
// MAXSYMLINKS (40 on Linux) does.
const maxLinks = 40

// TempPrefix starts the name of every temporary file Create makes; the
// whole name is TempPrefix, 16 hex digits and ".part" (28 bytes).
const TempPrefix = ".lafs-"

// File is an output file being written.
type File struct {
	*os.File
	target    string // the path written: the original target with links resolved
	overwrite bool
	done      bool
}

// Create starts writing target. Without overwrite, an existing target
// (a dangling link included) is an error now and at Commit. With
// overwrite, symbolic links at target are followed and the file they name
// is replaced, keeping its permission bits.
func Create(target string, overwrite bool) (*File, error) {
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: %w", target, ErrIsDir)
	}
	perm := os.FileMode(0o666)
	keep := false
	if !overwrite {
		if _, err := os.Lstat(target); err == nil {
			return nil, fmt.Errorf("%s: %w (use --force to overwrite it)", target, ErrExists)
		}
	} else {
		resolved, err := resolveLinks(target)
		if err != nil {
			return nil, err
		}
		target = resolved
		if st, err := os.Lstat(target); err == nil {
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: %w", target, ErrNotRegular)
			}
			perm, keep = st.Mode().Perm(), true
		}
	}
	tmp, err := createTemp(filepath.Dir(target), perm)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", target, err)
	}
	if keep {
		// open(2) applied the umask; an overwritten file keeps its own mode.
		if err := tmp.Chmod(perm); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("creating %s: %w", target, err)
		}
	}
	return &File{File: tmp, target: target, overwrite: overwrite}, nil
}

// Target is the path Commit writes: the target given to Create, with
// symbolic links resolved when overwriting.
func (f *File) Target() string { return f.target }

// createTemp makes a new file with a short random name in dir; the kernel
// applies the umask to perm.
func createTemp(dir string, perm os.FileMode) (*os.File, error) {
	var b [8]byte
	for range 10000 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, TempPrefix+hex.EncodeToString(b[:])+".part")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary name")
}

// resolveLinks follows symbolic links at path (not in its directories)
// until it names something that is not a link or does not exist.
func resolveLinks(path string) (string, error) {
	for range maxLinks {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("following %s: %w", path, err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("following %s: too many levels of symbolic links", path)
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
