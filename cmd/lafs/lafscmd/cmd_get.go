package lafscmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// getOptions are get's arguments and switches.
type getOptions struct {
	From  string // a file cap or a path
	To    string // a local file; "" or "-" for standard output
	Force bool
	JSON  bool
}

type getJSON struct {
	Cap  string `json:"cap"`
	File string `json:"file"`
	Size uint64 `json:"size"`
}

func newGetCommand(f *command.Factory) *cli.Command {
	var o getOptions
	var out output
	return &cli.Command{
		Name:      "get",
		Usage:     "download a file by its cap or path",
		ArgsUsage: "CAP|ALIAS:PATH [FILE|-]",
		Description: "Writes to FILE (never overwriting an existing one without --force), or to stdout when FILE\n" +
			"is '-' or absent. FILE appears only when the whole file was downloaded and verified.\n" +
			"Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite FILE if it exists", Destination: &o.Force},
			jsonFlag(&out, "print {cap, file, size} when done"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 1 || cCtx.NArg() > 2 {
				return command.Usagef("lafs get takes CAP|ALIAS:PATH and an optional FILE, got %d argument(s)", cCtx.NArg())
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			if out.set && out.JSON && location.ParseLocal(o.To).IsStd() {
				return command.Usagef("--json reports on a FILE written: with the data on standard output, give FILE (or use lafs cat)")
			}
			return runGet(cCtx.Context, f, o)
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
		return aliasHint(err)
	}
	size, _ := c.SizeKnown()
	to := location.ParseLocal(o.To)
	if to.IsStd() {
		// Progress on stderr when it is a terminal and the data goes
		// elsewhere (a pipe, a file), as curl does.
		var b = progress.Nop()
		if !f.IO.OutTTY {
			b = bar(f, false, "get", int64(size))
		}
		if err := s.Download(ctx, c, io.MultiWriter(f.IO.Out, b), filestore.DownloadOptions{}); err != nil {
			b.Abort()
			return err
		}
		b.Finish()
		return nil
	}
	if st, err := os.Stat(to.LocalName()); err == nil && st.IsDir() {
		// Into a directory, under the file's own name (cp's rule).
		name := ""
		if l, err := location.ParseGrid(aliases, o.From); err == nil {
			name = l.Base() // "" for a bare cap
		}
		if name == "" {
			return command.WithHint(fmt.Errorf("%s: %w", to, safefile.ErrIsDir), "a cap has no file name: give one, as in 'lafs get CAP "+filepath.Join(to.LocalName(), "NAME")+"'")
		}
		to = to.Join(name)
	}
	out, err := safefile.Create(to.LocalName(), o.Force)
	if err != nil {
		return err
	}
	bar := bar(f, o.JSON, filepath.Base(to.LocalName()), int64(size))
	if err := s.Download(ctx, c, io.MultiWriter(out.File, bar), filestore.DownloadOptions{}); err != nil {
		bar.Abort()
		out.Abort()
		return err
	}
	bar.Finish()
	if err := out.Commit(); err != nil {
		return err
	}
	if o.JSON {
		return command.WriteJSONCompact(f.IO.Out, getJSON{Cap: c.String(), File: to.LocalName(), Size: size})
	}
	return nil
}
