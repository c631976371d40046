package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/copier"
	"github.com/lafs/lafs/internal/window"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// cpOptions are cp's arguments and switches.
type cpOptions struct {
	Sources   []string
	Target    string
	Recursive bool
	Force     bool
	Update    bool
	JSON      bool
	// Parallel is how many files a tree upload sends at once.
	Parallel int
}

type cpJSON struct {
	From    []string `json:"from"`
	To      string   `json:"to"`
	Outcome string   `json:"outcome"`
	Size    int64    `json:"size"`
	Skipped int      `json:"skipped"`
}

func newCpCommand(f *command.Factory) *cli.Command {
	var o cpOptions
	var out output
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
			&cli.BoolFlag{Name: "update", Aliases: []string{"u"}, Usage: "resume: skip files whose cap at TO already matches, replace changed ones; a directory onto an existing one merges into it", Destination: &o.Update},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"j"}, Value: window.Default, Usage: "upload up to `N` files of a tree at once", Destination: &o.Parallel},
			jsonFlag(&out, "print {from, to, outcome, size, skipped} when done"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 2 {
				return command.Usagef("lafs cp takes FROM... and TO, got %d argument(s)", cCtx.NArg())
			}
			args := cCtx.Args().Slice()
			o.Sources, o.Target = args[:len(args)-1], args[len(args)-1]
			if err := window.Check(o.Parallel); err != nil {
				return command.Usagef("--parallel: %v", err)
			}
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
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
	files := 0 // local files to copy; -1: some come from the grid (not counted ahead)
	for _, a := range o.Sources {
		src, err := location.Parse(aliases, a)
		if err != nil {
			return aliasHint(err)
		}
		if src.IsLocal() {
			size, n := copier.TreeStats(src.LocalName())
			total += size
			if files >= 0 {
				files += n
			}
		} else {
			files = -1
		}
		srcs = append(srcs, src)
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	bar := bar(f, o.JSON, "cp", total)
	bar.CountFiles(files) // "12/200 files, 3.1 MiB/48.0 MiB", on a terminal only
	k := &copier.Copier{Store: s, Overwrite: o.Force, MissingDirIsCopy: true, Progress: bar.Add, FileDone: bar.AddFile, Stdout: f.IO.Out, Update: o.Update, Parallel: o.Parallel,
		CapOf: func(ctx context.Context, file *os.File, size int64) (*caps.Cap, error) {
			return dryRunCap(ctx, f, file, uint64(size))
		}}
	k.Warn = func(msg string) { fmt.Fprintln(f.IO.Err, "lafs: warning: "+msg) } // each skipped item; cp then exits 1
	outcome, err := k.Copy(ctx, srcs, dst, o.Recursive)
	if err != nil {
		bar.Abort()
		if errors.Is(err, filestore.ErrExists) {
			return command.WithHint(err, "use --update to resume (skipping what is already there), or --force to replace it")
		}
		if errors.Is(err, copier.ErrNeedRecursive) {
			return command.WithHint(err, "use cp -r to copy a directory")
		}
		return err
	}
	bar.Finish()
	if o.JSON && !dst.IsStd() {
		return command.WriteJSONCompact(f.IO.Out, cpJSON{From: o.Sources, To: o.Target, Outcome: string(outcome), Size: total, Skipped: k.Skipped})
	}
	return nil
}
