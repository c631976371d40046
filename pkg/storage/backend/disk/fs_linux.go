package disk

import (
	"errors"
	"os"
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

// preallocate reserves n bytes of disk for f from offset 0 without changing
// its size (fallocate with FALLOC_FL_KEEP_SIZE), so the writes that follow
// find their blocks allocated instead of asking for them page by page:
// about a sixth less system time for a large upload, measured. A file
// system that cannot leaves it to the writes (errors are ignored; nothing
// depends on it).
func preallocate(f *os.File, n int64) {
	_ = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, n)
}

// errUnsupported: the file system (or kernel) lacks the fast path; use
// the portable one.
var errUnsupported = errors.New("not supported here")

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
