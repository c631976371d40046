//go:build unix

package command

import (
	"os"
	"syscall"
)

// stdoutWasClosed reports whether the process started with standard
// output closed. The Go runtime then puts /dev/null there, opened
// read-write, so that writes succeed silently; a shell's '>/dev/null'
// opens it write-only, so the two can be told apart.
func stdoutWasClosed(f *os.File) bool {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	if errno != 0 || flags&syscall.O_ACCMODE != syscall.O_RDWR {
		return false
	}
	var st, null syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) != nil || syscall.Stat(os.DevNull, &null) != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFCHR && st.Rdev == null.Rdev
}
