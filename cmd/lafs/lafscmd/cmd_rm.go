package lafscmd

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// rmOptions are rm's arguments and switches.
type rmOptions struct {
	Paths     []string
	Recursive bool
	JSON      bool
}

type rmJSON struct {
	Path string `json:"path"`
	Cap  string `json:"cap"`
	Type string `json:"type"`
}

func newRmCommand(f *command.Factory) *cli.Command {
	var o rmOptions
	var out output
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove names from their directories (-r for directories)",
		ArgsUsage: "ALIAS:PATH...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "allow removing directories", Destination: &o.Recursive},
			jsonFlag(&out, "print one {path, cap, type} a line for each name removed"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("lafs rm takes one or more ALIAS:PATH, got 0 argument(s)")
			}
			o.Paths = cCtx.Args().Slice()
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runRm(cCtx.Context, f, o)
		},
	}
}

func runRm(ctx context.Context, f *command.Factory, o rmOptions) error {
	s, err := f.Store()
	if err != nil {
		return err
	}
	for _, arg := range o.Paths {
		p, err := gridPath(f, arg)
		if err != nil {
			return err
		}
		target, err := filestore.Lookup(ctx, s, p)
		if err != nil {
			return err
		}
		if target.IsDirectory() && !o.Recursive {
			return &command.Error{Err: fmt.Errorf("%s is a directory", arg), Code: command.ExitError, Kind: command.CodeNotDirectory, Hint: "use 'lafs rm -r' to remove a directory"}
		}
		dir, name, err := filestore.Parent(ctx, s, p)
		if err != nil {
			return err
		}
		if err := s.Unlink(ctx, dir, name); err != nil {
			return err
		}
		if o.JSON {
			typ := "file"
			if target.IsDirectory() {
				typ = "directory"
			}
			if err := command.WriteJSONCompact(f.IO.Out, rmJSON{Path: arg, Cap: target.String(), Type: typ}); err != nil {
				return err
			}
		}
	}
	return nil
}
