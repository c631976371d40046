package tahoecmd

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/webapi/gateway"
	"github.com/urfave/cli/v2"
)

// mkdirOptions are mkdir's arguments.
type mkdirOptions struct {
	Path   string // "" for an unlinked directory
	Format string // SDMF or MDMF
}

func newMkdirCommand(f *command.Factory) *cli.Command {
	var o mkdirOptions
	return &cli.Command{
		Name:  "mkdir",
		Usage: "create a directory; with PATH, link it there",
		Description: "With PATH, creates the directory and any missing directories above it, as Tahoe's web API\n" +
			"does; an existing directory is left as it is. Prints the directory's cap either way.",
		ArgsUsage: "[PATH]",
		Flags:     withFileStoreFlags(f, &cli.StringFlag{Name: "format", Usage: "SDMF or MDMF", Destination: &o.Format}),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("mkdir takes at most one PATH")
			}
			o.Path = cCtx.Args().First()
			return tahoeHTTPError(f, "Error during HTTP request", 1, runMkdir(cCtx.Context, f, o))
		},
	}
}

func runMkdir(ctx context.Context, f *command.Factory, o mkdirOptions) error {
	format, err := mutableFormat(o.Format)
	if err != nil {
		return err
	}
	var p filestore.Path
	if o.Path != "" {
		if p, err = gridPath(f, o.Path); err != nil {
			return err
		}
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	var dir *caps.Cap
	if p.Rel == "" {
		// No path, or a bare alias: a new unlinked directory, as Tahoe.
		dir, err = s.Mkdir(ctx, filestore.MkdirOptions{Format: format})
	} else if g, ok := s.(*gateway.Store); ok {
		// One request, as Tahoe's mkdir makes (the node's default format
		// unless one was asked for).
		want := format
		if o.Format == "" {
			want = filestore.FormatDefault
		}
		dir, err = g.MkdirPath(ctx, p.Root, p.Rel, want)
	} else {
		dir, err = filestore.MkdirAll(ctx, s, p, format)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, dir.String())
	return err
}
