//go:build !linux

package disk

import (
	"errors"
	"os"
)

// startWriteback does nothing where sync_file_range is missing: Commit's
// fsync writes everything.
func startWriteback(*os.File, int64, int64) {}

// preallocate does nothing here: the writes allocate as they go.
func preallocate(*os.File, int64) {}

// errUnsupported: no fast path here; use the portable one.
var errUnsupported = errors.New("not supported here")

// renameNoReplace needs Linux's renameat2.
func renameNoReplace(string, string) error { return errUnsupported }
