package filestore

import (
	"context"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
)

// DirModifier is implemented by stores that can change a directory's
// children in one read-modify-write (the web API server uses it for
// Tahoe's link semantics: metadata kept or merged, replace=only-files,
// set_children in one publish). Stores without it get one Link or Unlink
// per change.
type DirModifier interface {
	// ModifyDir reads the writable directory dir, calls change with its
	// children (in stored order) and writes what change returns. change may
	// be called again when another writer got there first, so it must not
	// keep state between calls; an error from change is returned as it is
	// and nothing is written. A read cap or an immutable directory is
	// ErrReadOnly.
	ModifyDir(ctx context.Context, dir *caps.Cap, change func([]dirnode.Entry) ([]dirnode.Entry, error)) error
}
