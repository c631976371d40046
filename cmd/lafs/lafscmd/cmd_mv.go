package lafscmd

import (
	"context"
	"errors"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// mvOptions are mv's arguments and switches.
type mvOptions struct {
	From, To string
	Force    bool
}

func newMvCommand(f *command.Factory) *cli.Command {
	var o mvOptions
	return &cli.Command{
		Name:      "mv",
		Usage:     "move a file or directory to another name or directory",
		ArgsUsage: "FROM TO",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace TO if it exists", Destination: &o.Force}},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
				return err
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			return runMv(cCtx.Context, f, o)
		},
	}
}

func runMv(ctx context.Context, f *command.Factory, o mvOptions) error {
	from, err := gridPath(f, o.From)
	if err != nil {
		return err
	}
	to, err := gridPath(f, o.To)
	if err != nil {
		return err
	}
	if from.Rel == "" {
		return command.Usagef("%s names a root directory: there is no name to move", o.From)
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	_, err = filestore.Move(ctx, s, from, to, filestore.MoveOptions{Replace: o.Force})
	if errors.Is(err, filestore.ErrExists) {
		return command.WithHint(err, "use --force to replace it")
	}
	return err
}
