package lafscmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/version"
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
	if errors.As(err, &ua) && ua.Alias == nodedir.DefaultAlias {
		return filestore.Path{}, &command.Error{Err: errors.New("no alias given, and there is no default alias 'tahoe:'"), Code: command.ExitError, Kind: command.CodeUnknownAlias,
			Hint: "give ALIAS:PATH ('lafs alias ls' lists them), or make the default with 'lafs alias add tahoe'"}
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
		return command.WithHint(err, "make one with 'lafs alias add NAME' (a new directory) or 'lafs alias add NAME DIRCAP'; 'lafs alias ls' lists them")
	}
	return err
}

// lookupDir returns the cap at a grid location.
func lookupDir(ctx context.Context, s filestore.Store, l location.Location) (*caps.Cap, error) {
	return filestore.Lookup(ctx, s, l.Path())
}

// parseEntryCap parses a directory entry's cap.
func parseEntryCap(e dirnode.Entry) (*caps.Cap, error) { return caps.Parse(e.Cap()) }

// cliVersion is the version lafs --version prints.
func cliVersion() string { return version.Version }
