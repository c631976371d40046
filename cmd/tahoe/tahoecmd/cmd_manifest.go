package tahoecmd

import (
	"context"

	"github.com/lafs/lafs/internal/checkcli"
	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/urfave/cli/v2"
)

// manifestOptions are manifest's switches and starting point.
type manifestOptions struct {
	checkcli.ManifestOptions
	Where string
}

func newManifestCommand(f *command.Factory) *cli.Command {
	var o manifestOptions
	var si, vc, rc bool
	return &cli.Command{
		Name:      "manifest",
		Usage:     "print a list of all files and directories reachable from the given starting point",
		ArgsUsage: "[ALIAS:PATH]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "storage-index", Aliases: []string{"s"}, Usage: "only print storage index strings, not pathname+cap", Destination: &si},
			&cli.BoolFlag{Name: "verify-cap", Usage: "only print verifycap, not pathname+cap", Destination: &vc},
			&cli.BoolFlag{Name: "repair-cap", Usage: "only print repaircap, not pathname+cap", Destination: &rc},
			&cli.BoolFlag{Name: "raw", Aliases: []string{"r"}, Usage: "display raw JSON data instead of parsed", Destination: &o.Raw},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("too many arguments")
			}
			o.Where = cCtx.Args().First()
			switch {
			case si:
				o.Field = deep.ManifestStorageIndex
			case vc:
				o.Field = deep.ManifestVerifyCap
			case rc:
				o.Field = deep.ManifestRepairCap
			}
			return tahoeHTTPError(f, "ERROR", 1, runManifest(cCtx.Context, f, o))
		},
	}
}

func runManifest(ctx context.Context, f *command.Factory, o manifestOptions) error {
	e, err := checkEnv(f)
	if err != nil {
		return err
	}
	return checkcli.TahoeManifest(ctx, e, o.Where, o.ManifestOptions)
}

// statsOptions are stats's switch and starting point.
type statsOptions struct {
	Raw   bool
	Where string
}

func newStatsCommand(f *command.Factory) *cli.Command {
	var o statsOptions
	return &cli.Command{
		Name:      "stats",
		Usage:     "print statistics about all files and directories reachable from the given starting point",
		ArgsUsage: "[ALIAS:PATH]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "raw", Aliases: []string{"r"}, Usage: "display raw JSON data instead of parsed", Destination: &o.Raw},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("too many arguments")
			}
			o.Where = cCtx.Args().First()
			return tahoeHTTPError(f, "ERROR", 1, runStats(cCtx.Context, f, o))
		},
	}
}

func runStats(ctx context.Context, f *command.Factory, o statsOptions) error {
	e, err := checkEnv(f)
	if err != nil {
		return err
	}
	return checkcli.TahoeStats(ctx, e, o.Where, o.Raw)
}
