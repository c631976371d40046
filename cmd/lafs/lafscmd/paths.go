package lafscmd

import (
	"errors"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
)

// gridPath reads a path argument that is always in the grid
// ("alias:dir/file", "URI:DIR2:...:./dir").
func gridPath(f *command.Factory, arg string) (filestore.Path, error) {
	aliases, err := f.Aliases()
	if err != nil {
		return filestore.Path{}, err
	}
	l, err := location.ParseGrid(aliases, arg)
	var ua *nodedir.UnknownAliasError
	if errors.As(err, &ua) && ua.Alias == nodedir.DefaultAlias && aliases[arg] != "" {
		return filestore.Path{}, command.WithHint(err, fmt.Sprintf("%s is an alias: did you mean '%s:'?", arg, arg))
	}
	if err != nil {
		return filestore.Path{}, aliasHint(err)
	}
	return l.Path(), nil
}

// aliasHint adds what to do about an unknown alias.
func aliasHint(err error) error {
	var ua *nodedir.UnknownAliasError
	if errors.As(err, &ua) {
		return command.WithHint(err, "make an alias with 'tahoe create-alias NAME', or give a directory cap")
	}
	return err
}
