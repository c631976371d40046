package tahoecmd

import (
	"context"
	"fmt"
	"time"

	"github.com/lafs/lafs/internal/backup"
	"github.com/lafs/lafs/internal/backup/backupdb"
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// backupOptions are backup's arguments and switches.
type backupOptions struct {
	From, To         string
	Verbose          bool
	IgnoreTimestamps bool
	Exclude          []string // glob patterns (Python fnmatch) on names
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func newBackupCommand(f *command.Factory) *cli.Command {
	var o backupOptions
	var excludes, excludeFrom cli.StringSlice
	var vcs bool
	return &cli.Command{
		Name:      "backup",
		Usage:     "make target dir look like local dir",
		ArgsUsage: "FROM ALIAS:TO",
		Description: "Add a versioned backup of the local FROM directory to a timestamped subdirectory of the\n" +
			"TO/Archives directory on the grid, sharing as many files and directories as possible with\n" +
			"earlier backups (private/backupdb.sqlite remembers them). Create TO/Latest as a reference to\n" +
			"the latest backup. Exit status: 0 success, 2 when some files or directories were skipped,\n" +
			"1 failure or usage error.",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be noisy about what is happening", Destination: &o.Verbose},
			&cli.BoolFlag{Name: "ignore-timestamps", Usage: "do not use backupdb timestamps to decide whether a local file is unchanged", Destination: &o.IgnoreTimestamps},
			&cli.StringSliceFlag{Name: "exclude", Usage: "ignore files matching a glob pattern (may be repeated)", Destination: &excludes},
			&cli.StringSliceFlag{Name: "exclude-from-utf-8", Aliases: []string{"exclude-from"}, Usage: "ignore files matching the glob patterns listed in a file, one per line", Destination: &excludeFrom},
			&cli.BoolFlag{Name: "exclude-vcs", Usage: "exclude the files and directories of CVS, RCS, SCCS, Git, SVN, Arch, Bazaar, Mercurial, Darcs", Destination: &vcs},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 2 {
				return command.Usagef("Wrong number of arguments.")
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			for _, p := range excludes.Value() {
				o.Exclude = backup.AddPattern(o.Exclude, p)
			}
			for _, name := range excludeFrom.Value() {
				pats, err := backup.ReadExcludeFile(name)
				if err != nil {
					return err
				}
				for _, p := range pats {
					o.Exclude = backup.AddPattern(o.Exclude, p)
				}
			}
			if vcs {
				for _, p := range backup.VCSPatterns {
					o.Exclude = backup.AddPattern(o.Exclude, p)
				}
			}
			return runBackup(cCtx.Context, f, o)
		},
	}
}

// runBackup runs the shared engine (internal/backup) and prints what
// Tahoe's backup prints: verbose lines and "Backing up N/M..." on stdout,
// warnings on stderr, then the summary; exit 2 when anything was skipped.
func runBackup(ctx context.Context, f *command.Factory, o backupOptions) error {
	for _, p := range o.Exclude {
		if _, err := backup.Fnmatch(p); err != nil {
			return command.Usagef("--exclude %q: %v", p, err)
		}
	}
	to, err := gridPath(f, o.To)
	if err != nil {
		return err
	}
	n, err := f.Node()
	if err != nil {
		return err
	}
	db, err := backupdb.Open(ctx, n.Path("private", "backupdb.sqlite"))
	if err != nil {
		fmt.Fprintln(f.IO.Err, err)
		fmt.Fprintln(f.IO.Err, "ERROR: Unable to load backup db.")
		return command.Reported(1)
	}
	defer db.Close()
	s, err := f.Store()
	if err != nil {
		return err
	}
	sum, err := backup.Run(ctx, s, db, backup.Options{
		From: o.From, To: to, Verbose: o.Verbose, IgnoreTimestamps: o.IgnoreTimestamps, Exclude: o.Exclude, Now: o.Now,
	}, backup.Hooks{
		Warn:    func(msg string) { fmt.Fprintln(f.IO.Err, msg) },
		Verbose: func(line string) { fmt.Fprintln(f.IO.Out, line) },
		Step: func(st backup.Step) {
			fmt.Fprintf(f.IO.Out, "Backing up %d/%d... %s elapsed...\n", st.Done, st.Total, formatElapsed(st.Elapsed))
		},
	})
	if err != nil {
		return err
	}
	if !f.IO.Quiet {
		fmt.Fprintf(f.IO.Out, " %d files uploaded (%d reused), %d files skipped, %d directories created (%d reused), %d directories skipped\n",
			sum.FilesUploaded, sum.FilesReused, sum.FilesSkipped, sum.DirsCreated, sum.DirsReused, sum.DirsSkipped)
	}
	if o.Verbose {
		fmt.Fprintf(f.IO.Out, " %d files checked, %d directories checked\n", sum.FilesChecked, sum.DirsChecked)
	}
	fmt.Fprintf(f.IO.Out, " backup done, elapsed time: %s\n", formatTimedelta(sum.Elapsed))
	if sum.Skipped() {
		return command.Reported(2)
	}
	return nil
}

// formatElapsed is Tahoe's progress time, "0h 0m 3s".
func formatElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%dh %dm %ds", s/3600, (s/60)%60, s%60)
}

// formatTimedelta is str(timedelta) without the fraction, "0:00:03".
func formatTimedelta(d time.Duration) string {
	s := int(d.Seconds())
	days := s / 86400
	s %= 86400
	out := fmt.Sprintf("%d:%02d:%02d", s/3600, (s/60)%60, s%60)
	if days > 0 {
		plural := "s"
		if days == 1 {
			plural = ""
		}
		out = fmt.Sprintf("%d day%s, %s", days, plural, out)
	}
	return out
}
