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
	JSON     bool
}

type mvJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
	Cap  string `json:"cap"`
}

func newMvCommand(f *command.Factory) *cli.Command {
	var o mvOptions
	var out output
	return &cli.Command{
		Name:      "mv",
		Usage:     "move a file or directory to another name or directory",
		ArgsUsage: "FROM TO",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace TO if it exists", Destination: &o.Force},
			jsonFlag(&out, "print {from, to, cap}"),
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
				return err
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
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
	c, _ := filestore.Lookup(ctx, s, from)
	dst, err := filestore.Move(ctx, s, from, to, filestore.MoveOptions{Replace: o.Force})
	if errors.Is(err, filestore.ErrExists) {
		return command.WithHint(err, "use --force to replace it")
	}
	if err != nil || !o.JSON {
		return err
	}
	j := mvJSON{From: o.From, To: o.To}
	if c != nil {
		j.Cap = c.String()
	}
	_ = dst
	return command.WriteJSONCompact(f.IO.Out, j)
}
