package lafscmd

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// mkdirOptions are mkdir's argument and switches.
type mkdirOptions struct {
	Path    string
	Parents bool
	MDMF    bool
}

func newMkdirCommand(f *command.Factory) *cli.Command {
	var o mkdirOptions
	return &cli.Command{
		Name:      "mkdir",
		Usage:     "create a directory at a path (-p: and its parents)",
		ArgsUsage: "ALIAS:PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "parents", Aliases: []string{"p"}, Usage: "create missing parents; an existing directory is fine", Destination: &o.Parents},
			&cli.BoolFlag{Name: "mdmf", Usage: "use the MDMF format (default SDMF)", Destination: &o.MDMF},
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS:PATH"); err != nil {
				return err
			}
			o.Path = cCtx.Args().First()
			return runMkdir(cCtx.Context, f, o)
		},
	}
}

func runMkdir(ctx context.Context, f *command.Factory, o mkdirOptions) error {
	p, err := gridPath(f, o.Path)
	if err != nil {
		return err
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	format := filestore.FormatSDMF
	if o.MDMF {
		format = filestore.FormatMDMF
	}
	var dir *caps.Cap
	if o.Parents {
		dir, err = filestore.MkdirAll(ctx, s, p, format)
	} else {
		var parent *caps.Cap
		var name string
		if parent, name, err = filestore.Parent(ctx, s, p); err == nil {
			if dir, err = s.Mkdir(ctx, filestore.MkdirOptions{Format: format}); err == nil {
				err = s.Link(ctx, parent, name, dir, false)
			}
		}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, dir.String())
	return err
}
