package tahoecmd

import (
	"context"
	"fmt"

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
			return runMove(cCtx.Context, f, moveOptions{From: cCtx.Args().Get(0), To: cCtx.Args().Get(1), Link: true})
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
			return runMove(cCtx.Context, f, moveOptions{From: cCtx.Args().Get(0), To: cCtx.Args().Get(1)})
		},
	}
}

// runMove links FROM at TO (inside TO when it is a directory), replacing
// what is there as Tahoe does, and for mv unlinks FROM.
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
	if _, err := filestore.Move(ctx, s, from, to, filestore.MoveOptions{Replace: true, Copy: o.Link}); err != nil {
		return err
	}
	if !f.IO.Quiet {
		_, err = fmt.Fprintln(f.IO.Out, "OK")
	}
	return err
}
