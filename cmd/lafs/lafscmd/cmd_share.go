package lafscmd

import (
	"context"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

func newShareCommand(f *command.Factory) *cli.Command {
	var out output
	return &cli.Command{
		Name:      "share",
		Usage:     "print the read cap of a grid path or alias, to give to someone",
		ArgsUsage: "ALIAS:PATH|CAP",
		Description: "Looks up ALIAS:PATH (or takes CAP) and prints its read-only cap: whoever holds it can read the\n" +
			"file or directory tree, but change nothing. 'lafs attenuate' does the same to a cap alone.",
		Flags: []cli.Flag{jsonFlag(&out, "print {cap, kind, from, from_kind, path}")},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS:PATH|CAP"); err != nil {
				return err
			}
			j, err := asJSON(f, out)
			if err != nil {
				return err
			}
			return runShare(cCtx.Context, f, cCtx.Args().First(), j)
		},
	}
}

func runShare(ctx context.Context, f *command.Factory, arg string, asJSON bool) error {
	capStr := arg
	path := ""
	if !nodedir.HasCapPrefix(arg) {
		p, err := gridPath(f, arg)
		if err != nil {
			return err
		}
		s, err := f.Store()
		if err != nil {
			return err
		}
		c, err := filestore.Lookup(ctx, s, p)
		if err != nil {
			return err
		}
		capStr, path = c.String(), arg
	}
	return runAttenuate(f.IO, attenuateOptions{To: "read", JSON: asJSON, Path: path, AllowSame: true}, capStr)
}
