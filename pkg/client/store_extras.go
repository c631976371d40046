package client

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

var _ filestore.DirModifier = (*Store)(nil)

// ModifyDir changes a directory's children in one read-modify-write,
// retrying when another writer got there first.
func (s *Store) ModifyDir(ctx context.Context, dir *caps.Cap, change func([]dirnode.Entry) ([]dirnode.Entry, error)) error {
	if !dir.IsDirectory() {
		return fmt.Errorf("a %s cap: %w", dir.Kind, filestore.ErrNotDirectory)
	}
	if !dir.IsMutable() {
		return fmt.Errorf("a %s directory is immutable: %w", dir.Kind, filestore.ErrReadOnly)
	}
	return mapErr(s.Client.modifyDir(ctx, dir, change))
}
