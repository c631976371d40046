package tahoecmd

import (
	"context"

	"github.com/lafs/lafs/internal/checkcli"
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// checkOptions are check's and deep-check's switches and locations.
type checkOptions struct {
	checkcli.DeepCheckOptions
	Locations []string
}

func checkFlags(o *checkOptions, deep bool) []cli.Flag {
	verbose := &cli.BoolFlag{Name: "verbose", Usage: "provide verbose output (unimplemented)", Destination: &o.Verbose}
	if deep {
		verbose = &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be noisy about what is happening", Destination: &o.Verbose}
	}
	return []cli.Flag{
		&cli.BoolFlag{Name: "raw", Usage: "display raw JSON data instead of parsed", Destination: &o.Raw},
		&cli.BoolFlag{Name: "verify", Usage: "verify all hashes, instead of merely querying share presence", Destination: &o.Verify},
		&cli.BoolFlag{Name: "repair", Usage: "automatically repair any problems found", Destination: &o.Repair},
		&cli.BoolFlag{Name: "add-lease", Usage: "add/renew lease on all shares", Destination: &o.AddLease},
		verbose,
	}
}

func newCheckCommand(f *command.Factory) *cli.Command {
	var o checkOptions
	return &cli.Command{
		Name:      "check",
		Usage:     "check a single file or directory: count how many shares are available and verify their hashes; optionally repair the file if any problems were found",
		ArgsUsage: "[ALIAS:PATH...]",
		Flags:     checkFlags(&o, false),
		Action: func(cCtx *cli.Context) error {
			o.Locations = cCtx.Args().Slice()
			return tahoeHTTPError(f, "ERROR", 1, runCheck(cCtx.Context, f, o))
		},
	}
}

func newDeepCheckCommand(f *command.Factory) *cli.Command {
	var o checkOptions
	return &cli.Command{
		Name:      "deep-check",
		Usage:     "check all files and directories reachable from the given starting point (which must be a directory), like 'tahoe check' but for multiple files; optionally repair any problems found",
		ArgsUsage: "[ALIAS:PATH...]",
		Flags:     checkFlags(&o, true),
		Action: func(cCtx *cli.Context) error {
			o.Locations = cCtx.Args().Slice()
			return tahoeHTTPError(f, "ERROR", 1, runDeepCheck(cCtx.Context, f, o))
		},
	}
}

func checkEnv(f *command.Factory) (checkcli.Env, error) {
	s, err := f.Store()
	if err != nil {
		return checkcli.Env{}, err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return checkcli.Env{}, err
	}
	return checkcli.Env{Store: s, Aliases: aliases, Stdout: f.IO.Out, Stderr: f.IO.Err}, nil
}

func runCheck(ctx context.Context, f *command.Factory, o checkOptions) error {
	e, err := checkEnv(f)
	if err != nil {
		return err
	}
	return checkcli.TahoeCheck(ctx, e, o.Locations, o.CheckOptions)
}

func runDeepCheck(ctx context.Context, f *command.Factory, o checkOptions) error {
	e, err := checkEnv(f)
	if err != nil {
		return err
	}
	return checkcli.TahoeDeepCheck(ctx, e, o.Locations, o.DeepCheckOptions)
}
