package tahoecmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// moveOptions are ln's and mv's arguments.
type moveOptions struct {
	From, To string
	// Link leaves FROM where it is (ln).
	Link bool
}

func newLnCommand(f *command.Factory) *cli.Command {
	return &cli.Command{
		Name:      "ln",
		Usage:     "link a file or directory under a new name",
		ArgsUsage: "FROM TO",
		Flags:     fileStoreFlags(f),
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
				return err
			}
			return tahoeHTTPError(f, "Error", 1, runMove(cCtx.Context, f, moveOptions{From: cCtx.Args().Get(0), To: cCtx.Args().Get(1), Link: true}))
		},
	}
}

func newMvCommand(f *command.Factory) *cli.Command {
	return &cli.Command{
		Name:      "mv",
		Usage:     "move a file or directory to a new name",
		ArgsUsage: "FROM TO",
		Flags:     fileStoreFlags(f),
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
				return err
			}
			return tahoeHTTPError(f, "Error", 1, runMove(cCtx.Context, f, moveOptions{From: cCtx.Args().Get(0), To: cCtx.Args().Get(1)}))
		},
	}
}

// runMove links FROM at TO as Tahoe's mv and ln do (tahoe_mv.py): TO
// ending in a slash means the same name inside that directory; an
// existing file at TO is replaced, an existing directory is not ("You
// can't overwrite a directory with a file", exit 1); missing directories
// on the way are made. mv then unlinks FROM.
func runMove(ctx context.Context, f *command.Factory, o moveOptions) error {
	from, err := gridPath(f, o.From)
	if err != nil {
		return err
	}
	to, err := gridPath(f, o.To)
	if err != nil {
		return err
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	if from.Rel == "" && !o.Link {
		return command.Usagef("%s names a root directory: there is no name to move", o.From)
	}
	child, err := filestore.Lookup(ctx, s, from)
	if err != nil {
		return err
	}
	_, fromName := from.Split()
	if strings.HasSuffix(o.To, "/") || to.Rel == "" {
		to = to.Join(fromName)
	}
	if child.IsDirectory() && !o.Link && to.Root.Equal(from.Root) && strings.HasPrefix(to.Rel+"/", from.Rel+"/") {
		return fmt.Errorf("cannot move %s into itself (%s): it would orphan the directory", o.From, o.To)
	}
	if existing, err := filestore.Lookup(ctx, s, to); err == nil && existing.IsDirectory() {
		fmt.Fprintln(f.IO.Err, "Error: You can't overwrite a directory with a file")
		return command.Reported(1)
	} else if err != nil && !errors.Is(err, filestore.ErrNotFound) {
		return err
	}
	if err := linkAt(ctx, s, to, child); err != nil {
		return err
	}
	if !o.Link {
		dir, name, err := filestore.Parent(ctx, s, from)
		if err != nil {
			return err
		}
		if err := s.Unlink(ctx, dir, name); err != nil {
			fmt.Fprintf(f.IO.Err, "Error deleting original after move: %v\n", err)
			return command.Reported(2)
		}
	}
	_, err = fmt.Fprintln(f.IO.Out, "OK")
	return err
}
