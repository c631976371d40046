package lafscmd

import (
	"context"
	"errors"
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
	Force     bool
}

func newCpCommand(f *command.Factory) *cli.Command {
	var o cpOptions
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files and trees between the local disk and the grid (one progress bar)",
		ArgsUsage: "FROM... TO",
		Description: "ALIAS:path and URI:... arguments are in the grid (an unknown alias is an error), others\n" +
			"local (write ./name:x for a local name with a colon); TO '-' is standard output.\n" +
			"Existing targets are kept unless --force. Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy directories and their contents", Destination: &o.Recursive},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace existing files and names", Destination: &o.Force},
		},
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

func runCp(ctx context.Context, f *command.Factory, o cpOptions) error {
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	dst, err := location.Parse(aliases, o.Target)
	if err != nil {
		return aliasHint(err)
	}
	var srcs []location.Location
	var total int64
	for _, a := range o.Sources {
		src, err := location.Parse(aliases, a)
		if err != nil {
			return aliasHint(err)
		}
		if src.IsLocal() {
			total += copier.TreeSize(src.LocalName())
		}
		srcs = append(srcs, src)
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	bar := bar(f, false, "cp", total)
	k := &copier.Copier{Store: s, Overwrite: o.Force, MissingDirIsCopy: true, Progress: bar.Add, Stdout: f.IO.Out}
	k.Warn = func(msg string) { fmt.Fprintln(f.IO.Err, "lafs: warning: "+msg) } // each skipped item; cp then exits 1
	if _, err := k.Copy(ctx, srcs, dst, o.Recursive); err != nil {
		bar.Abort()
		if errors.Is(err, copier.ErrNeedRecursive) {
			return command.WithHint(err, "use cp -r to copy a directory")
		}
		return err
	}
	bar.Finish()
	return nil
}
