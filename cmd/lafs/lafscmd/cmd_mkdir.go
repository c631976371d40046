package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	JSON    bool
}

func newMkdirCommand(f *command.Factory) *cli.Command {
	var o mkdirOptions
	var out output
	var format string
	return &cli.Command{
		Name:      "mkdir",
		Usage:     "create a directory at a path (-p: and its parents)",
		ArgsUsage: "ALIAS:PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "parents", Aliases: []string{"p"}, Usage: "create missing parents; an existing directory is fine", Destination: &o.Parents},
			&cli.StringFlag{Name: "format", Value: "SDMF", Usage: "the directory's mutable format: SDMF or MDMF", Destination: &format},
			&cli.BoolFlag{Name: "mdmf", Hidden: true, Usage: "same as --format MDMF", Destination: &o.MDMF},
			jsonFlag(&out, "print {path, cap}"),
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS:PATH"); err != nil {
				return err
			}
			o.Path = cCtx.Args().First()
			switch strings.ToUpper(format) {
			case "SDMF":
			case "MDMF":
				o.MDMF = true
			default:
				return command.Usagef("--format %q: want SDMF or MDMF", format)
			}
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runMkdir(cCtx.Context, f, o)
		},
	}
}

type mkdirJSON struct {
	Path string `json:"path"`
	Cap  string `json:"cap"`
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
	if errors.Is(err, filestore.ErrNotFound) && !o.Parents {
		return command.WithHint(err, "use 'lafs mkdir -p' to create the missing parents too")
	}
	if err != nil {
		return err
	}
	if o.JSON {
		return command.WriteJSONCompact(f.IO.Out, mkdirJSON{Path: o.Path, Cap: dir.String()})
	}
	_, err = fmt.Fprintln(f.IO.Out, dir.String())
	return err
}
