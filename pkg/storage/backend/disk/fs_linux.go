package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to
// disk now, without waiting for it (sync_file_range with
// SYNC_FILE_RANGE_WRITE). It guarantees nothing: Commit's fsync still
// makes the share durable, but finds most of it already written, so the
// disk works while the upload goes on instead of all at the end. Errors are
// ignored (the fsync reports real ones).
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
	_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
}

// errUnsupported: the file system (or kernel) lacks the fast path; use
// the portable one.
var errUnsupported = errors.New("not supported here")

// createTmpfileLocked is createLocked with an unnamed file (O_TMPFILE):
// made, locked and then linked to inc (a link never replaces), so there
// is no temporary name to remove. errUnsupported when the file system has
// no O_TMPFILE or /proc is missing.
func createTmpfileLocked(inc string) (*os.File, error) {
	dir := filepath.Dir(inc)
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return nil, errUnsupported
		}
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	fail := func(op string, err error) (*os.File, error) {
		unix.Close(fd)
		return nil, &os.PathError{Op: op, Path: inc, Err: err}
	}
	// Exactly 0644 whatever the umask, as the portable path makes it.
	if err := unix.Fchmod(fd, 0o644); err != nil {
		return fail("chmod", err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail("lock incoming share", err)
	}
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, inc, unix.AT_SYMLINK_FOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			if _, serr := os.Stat(proc); serr != nil {
				unix.Close(fd)
				return nil, errUnsupported // no /proc
			}
		}
		return fail("link", err)
	}
	return os.NewFile(uintptr(fd), inc), nil
}

// renameNoReplace renames oldpath to newpath unless newpath exists
// (renameat2 with RENAME_NOREPLACE: one step where link and unlink are
// two). errUnsupported when the file system cannot.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return errUnsupported
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
