package tahoecmd

import (
	"context"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
)

// gridPath reads a path argument that is always in the grid (a bare path
// is in the 'tahoe' alias), against the node's aliases.
func gridPath(f *command.Factory, arg string) (filestore.Path, error) {
	aliases, err := f.Aliases()
	if err != nil {
		return filestore.Path{}, err
	}
	l, err := location.ParseGrid(aliases, arg)
	if err != nil {
		return filestore.Path{}, err
	}
	return l.Path(), nil
}

// parentOf resolves the directory holding a path's last name; a root is a
// usage error (it has no parent to link or unlink in).
func parentOf(ctx context.Context, s filestore.Store, p filestore.Path) (*caps.Cap, string, error) {
	dir, name, err := filestore.Parent(ctx, s, p)
	if name == "" && err != nil {
		return nil, "", command.Usagef("%v", err)
	}
	return dir, name, err
}
