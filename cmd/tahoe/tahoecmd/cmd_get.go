package tahoecmd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// getOptions are get's arguments.
type getOptions struct {
	From string // a file cap or a path
	To   string // a local file; "" or "-" for standard output
}

func newGetCommand(f *command.Factory) *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "download a file from the grid",
		ArgsUsage: "CAP [TO|-]",
		Flags:     fileStoreFlags(f),
		Description: "Writes the file to TO, or to stdout when TO is '-' or absent. TO appears only when the whole\n" +
			"file was downloaded and verified; on failure nothing is left behind.\n" +
			"Exit status: 0 success, 1 failure or usage error.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 1 || cCtx.NArg() > 2 {
				return command.Usagef("get takes CAP and an optional TO, got %d arguments", cCtx.NArg())
			}
			return tahoeHTTPError(f, "Error during GET", 1, runGet(cCtx.Context, f, getOptions{From: cCtx.Args().Get(0), To: cCtx.Args().Get(1)}))
		},
	}
}

func runGet(ctx context.Context, f *command.Factory, o getOptions) error {
	s, err := f.Store()
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	c, err := filestore.LookupFile(ctx, s, aliases, o.From)
	if err != nil {
		return err
	}
	to := location.ParseLocal(o.To)
	if to.IsStd() {
		return s.Download(ctx, c, f.IO.Out, filestore.DownloadOptions{})
	}
	out, err := safefile.Create(to.LocalName(), true) // Tahoe's get overwrites TO
	if err != nil {
		return err
	}
	if err := s.Download(ctx, c, out, filestore.DownloadOptions{}); err != nil {
		out.Abort()
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	// Tahoe's get names what it wrote, with TO made absolute.
	abs, err := filepath.Abs(to.LocalName())
	if err != nil {
		abs = to.LocalName()
	}
	fmt.Fprintf(f.IO.Err, "%s retrieved and written to %s\n", o.From, abs)
	return nil
}
