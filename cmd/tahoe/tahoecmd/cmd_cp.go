package tahoecmd

import (
	"context"
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/copier"
	"github.com/urfave/cli/v2"
)

// cpOptions are cp's arguments and switches.
type cpOptions struct {
	Sources   []string
	Target    string
	Recursive bool
	CapsOnly  bool
	Verbose   bool
}

func newCpCommand(f *command.Factory) *cli.Command {
	var o cpOptions
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files and directories between the local disk and the grid",
		ArgsUsage: "FROM... TO",
		Description: "Arguments of the form ALIAS:path or URI:... are in the grid (an unknown alias is an error);\n" +
			"others, and ./name:x, are local. A missing TO becomes a file when one file is copied and a\n" +
			"directory otherwise. Copies within the grid link the same caps.",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy directories and their contents", Destination: &o.Recursive},
			&cli.BoolFlag{Name: "caps-only", Usage: "write caps instead of file contents into local files", Destination: &o.CapsOnly},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "say what is being copied, on stderr", Destination: &o.Verbose},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 2 {
				return command.Usagef("cp needs FROM and TO")
			}
			args := cCtx.Args().Slice()
			o.Sources, o.Target = args[:len(args)-1], args[len(args)-1]
			return runCp(cCtx.Context, f, o)
		},
	}
}

// tahoeLocation reads a cp argument; "-" is a local file of that name in
// Tahoe's cp.
func tahoeLocation(aliases map[string]string, arg string) (location.Location, error) {
	if arg == "-" {
		return location.LocalPath(arg), nil
	}
	return location.Parse(aliases, arg)
}

func runCp(ctx context.Context, f *command.Factory, o cpOptions) error {
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	dst, err := tahoeLocation(aliases, o.Target)
	if err != nil {
		return err
	}
	var srcs []location.Location
	for _, a := range o.Sources {
		src, err := tahoeLocation(aliases, a)
		if err != nil {
			return err
		}
		srcs = append(srcs, src)
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	// Tahoe's cp replaces existing targets.
	k := &copier.Copier{Store: s, Overwrite: true, CapsOnly: o.CapsOnly}
	k.Warn = func(msg string) { fmt.Fprintln(f.IO.Err, msg) } // each skipped item; cp then exits 1
	if o.Verbose && !f.IO.Quiet {
		k.Verbose = func(msg string) { fmt.Fprintln(f.IO.Err, msg) }
	}
	outcome, err := k.Copy(ctx, srcs, dst, o.Recursive)
	if err != nil {
		return err
	}
	if !f.IO.Quiet {
		_, err = fmt.Fprintf(f.IO.Out, "Success: %s\n", outcome)
	}
	return err
}
