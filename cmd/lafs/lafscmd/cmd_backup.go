package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lafs/lafs/internal/backup"
	"github.com/lafs/lafs/internal/backup/backupdb"
	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/internal/window"
	"github.com/urfave/cli/v2"
)

// backupOptions are lafs backup's arguments and switches.
type backupOptions struct {
	From, To         string
	IgnoreTimestamps bool
	Exclude          []string // glob patterns (Python fnmatch) on names
	Parallel         int
	JSON             bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func newBackupCommand(f *command.Factory) *cli.Command {
	var o backupOptions
	var out output
	var excludes, excludeFrom cli.StringSlice
	var vcs bool
	return &cli.Command{
		Name:      "backup",
		Usage:     "snapshot a local directory into ALIAS:PATH/Archives (unchanged files are not sent again)",
		ArgsUsage: "DIR ALIAS:PATH",
		Description: "Each run adds PATH/Archives/<UTC time> (an immutable copy of DIR) and points PATH/Latest at it.\n" +
			"NODEDIR/private/backupdb.sqlite remembers what was uploaded (the same database as 'tahoe backup'),\n" +
			"so a re-run skips unchanged files and reuses unchanged directories, and a run that was\n" +
			"interrupted resumes. Symlinks and special files are skipped with a warning (exit 1 once the rest\n" +
			"is backed up). -v lists each file. Exit status: 0 success, 1 failure or something skipped,\n" +
			"2 usage error, 130 interrupted.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "exclude", Usage: "leave out names matching a glob `PATTERN` (may be repeated)", Destination: &excludes},
			&cli.StringSliceFlag{Name: "exclude-from", Usage: "leave out names matching the globs in `FILE`, one a line", Destination: &excludeFrom},
			&cli.BoolFlag{Name: "exclude-vcs", Usage: "leave out version control files (.git, .hg, .svn, CVS, ...)", Destination: &vcs},
			&cli.BoolFlag{Name: "ignore-timestamps", Usage: "upload files the database says are unchanged (a full re-check)", Destination: &o.IgnoreTimestamps},
			&cli.IntFlag{Name: "parallel", Aliases: []string{"j"}, Value: window.Default, Usage: "upload up to `N` files at once", Destination: &o.Parallel},
			jsonFlag(&out, "print the summary as one object"),
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "DIR and ALIAS:PATH"); err != nil {
				return err
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			if err := window.Check(o.Parallel); err != nil {
				return command.Usagef("--parallel: %v", err)
			}
			for _, p := range excludes.Value() {
				o.Exclude = backup.AddPattern(o.Exclude, p)
			}
			for _, name := range excludeFrom.Value() {
				pats, err := backup.ReadExcludeFile(name)
				if err != nil {
					return command.Usagef("--exclude-from: %v", errors.Unwrap(err))
				}
				for _, p := range pats {
					o.Exclude = backup.AddPattern(o.Exclude, p)
				}
			}
			if vcs {
				o.Exclude = append(o.Exclude, backup.VCSPatterns...)
			}
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runBackup(cCtx.Context, f, o)
		},
	}
}

// backupJSON is lafs backup --json's summary.
type backupJSON struct {
	From               string   `json:"from"`
	To                 string   `json:"to"`
	Archive            string   `json:"archive"`
	Cap                string   `json:"cap"`
	FilesUploaded      int      `json:"files_uploaded"`
	FilesReused        int      `json:"files_reused"`
	FilesSkipped       int      `json:"files_skipped"`
	DirectoriesCreated int      `json:"directories_created"`
	DirectoriesReused  int      `json:"directories_reused"`
	DirectoriesSkipped int      `json:"directories_skipped"`
	Size               int64    `json:"size"`
	Elapsed            float64  `json:"elapsed"`
	Warnings           []string `json:"warnings"`
}

func runBackup(ctx context.Context, f *command.Factory, o backupOptions) error {
	for _, p := range o.Exclude {
		if _, err := backup.Fnmatch(p); err != nil {
			return command.Usagef("--exclude %q: not a glob pattern (%v)", p, err)
		}
	}
	from, err := filepath.Abs(o.From)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(from); err != nil {
		return fmt.Errorf("cannot back up %s: %w", o.From, unwrapPathError(err))
	} else if !fi.IsDir() {
		return command.WithHint(command.Usagef("%s is not a directory", o.From), "back up a directory; for one file use 'lafs put FILE ALIAS:PATH'")
	}
	to, err := gridPath(f, o.To)
	if err != nil {
		return err
	}
	n, err := f.Node()
	if err != nil {
		return err
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	db, err := backupdb.Open(ctx, n.Path("private", "backupdb.sqlite"))
	if err != nil {
		return fmt.Errorf("the backup database: %w", err)
	}
	defer db.Close()
	files, size, _ := backup.Walk(from, o.Exclude)
	b := bar(f, o.JSON, "backup", size)
	b.CountFiles(files)
	var warnings []string
	sum, err := backup.Run(ctx, s, db, backup.Options{
		From: from, To: to, IgnoreTimestamps: o.IgnoreTimestamps, Exclude: o.Exclude, Parallel: o.Parallel, Now: o.Now,
	}, backup.Hooks{
		Warn: func(msg string) {
			msg = strings.TrimPrefix(msg, "WARNING: ")
			warnings = append(warnings, msg)
			if !o.JSON {
				b.Note(f.IO.Err, "lafs: warning: "+safeName(msg))
			}
		},
		Step: func(st backup.Step) {
			if st.Dir {
				return
			}
			if st.What != backup.Skipped {
				b.AddFile()
				b.Add(st.Size)
			}
			if f.Verbose && !o.JSON {
				b.Note(f.IO.Out, fmt.Sprintf("%-8s %s", st.What, safeName(st.Path)))
			}
		},
	})
	if err != nil {
		b.Abort()
		if errors.Is(err, backup.ErrCreateTarget) {
			return fmt.Errorf("cannot make %s/Archives: %w", o.To, errors.Unwrap(err))
		}
		return err
	}
	b.Finish()
	archive := strings.TrimSuffix(o.To, "/") + "/Archives/" + sum.Archive
	if strings.HasSuffix(o.To, ":") {
		archive = o.To + "Archives/" + sum.Archive
	}
	if o.JSON {
		if warnings == nil {
			warnings = []string{}
		}
		err = command.WriteJSONCompact(f.IO.Out, backupJSON{
			From: from, To: o.To, Archive: archive, Cap: sum.Cap.String(),
			FilesUploaded: sum.FilesUploaded, FilesReused: sum.FilesReused, FilesSkipped: sum.FilesSkipped,
			DirectoriesCreated: sum.DirsCreated, DirectoriesReused: sum.DirsReused, DirectoriesSkipped: sum.DirsSkipped,
			Size: sum.Bytes, Elapsed: sum.Elapsed.Round(time.Millisecond).Seconds(), Warnings: warnings,
		})
	} else {
		_, err = fmt.Fprintf(f.IO.Out, "%s (also %sLatest)\nfiles: %d uploaded, %d unchanged, %d skipped (%s); directories: %d new, %d unchanged, %d skipped; %s\n",
			safeName(archive), safeName(strings.TrimSuffix(archive, "Archives/"+sum.Archive)),
			sum.FilesUploaded, sum.FilesReused, sum.FilesSkipped, progress.Bytes(sum.Bytes),
			sum.DirsCreated, sum.DirsReused, sum.DirsSkipped, sum.Elapsed.Round(100*time.Millisecond))
	}
	if err != nil {
		return err
	}
	if sum.Skipped() {
		return command.WithHint(fmt.Errorf("skipped %d file(s) and %d directory(ies) that cannot be backed up; the snapshot holds the rest", sum.FilesSkipped, sum.DirsSkipped),
			"leave them out with --exclude PATTERN")
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
