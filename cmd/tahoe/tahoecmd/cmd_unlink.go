package tahoecmd

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// unlinkOptions are unlink's (and rm's) argument.
type unlinkOptions struct {
	Path string
}

func newUnlinkCommand(f *command.Factory, name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "remove a name from its directory",
		ArgsUsage: "PATH",
		Flags:     fileStoreFlags(f),
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "PATH"); err != nil {
				return err
			}
			return tahoeHTTPError(f, "ERROR", 1, runUnlink(cCtx.Context, f, unlinkOptions{Path: cCtx.Args().First()}))
		},
	}
}

func runUnlink(ctx context.Context, f *command.Factory, o unlinkOptions) error {
	p, err := gridPath(f, o.Path)
	if err != nil {
		return err
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	dir, name, err := parentOf(ctx, s, p)
	if err != nil {
		return err
	}
	if err := s.Unlink(ctx, dir, name); err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, "200 OK") // the web API's DELETE status, as Tahoe prints it
	return err
}
