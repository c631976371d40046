package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// putOptions are put's arguments and switches.
type putOptions struct {
	// Args are FILE... [DEST]: with two or more, a last argument in the
	// grid (location.Parse) is where the files are linked.
	Args   []string
	JSON   bool
	DryRun bool
	Force  bool
}

type putJSON struct {
	File      string `json:"file"`
	Cap       string `json:"cap"`
	Size      uint64 `json:"size"`
	Happiness int    `json:"happiness"`
	Uploaded  int    `json:"shares_uploaded"`
	Kept      int    `json:"shares_kept"`
	DryRun    bool   `json:"dry_run,omitempty"`
}

func newPutCommand(f *command.Factory) *cli.Command {
	var o putOptions
	var out output
	return &cli.Command{
		Name:      "put",
		Usage:     "upload files and print their caps",
		ArgsUsage: "FILE... [ALIAS:PATH]",
		Description: "Uploads each FILE (or standard input for '-') as an immutable file. One file: prints its cap;\n" +
			"several: 'FILE: CAP' lines. A last argument in the grid (ALIAS:path, URI:...) links the files\n" +
			"there (inside it when it is a directory or ends with '/'); an existing name is replaced only\n" +
			"with --force, as cp does. FILE '-' is standard input. --json prints one JSON object per\n" +
			"file (JSON Lines). --dry-run computes the caps without touching the grid.\n" +
			"Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			jsonFlag(&out, "print JSON Lines: {file, cap, size, happiness, shares_uploaded, shares_kept}"),
			&cli.BoolFlag{Name: "dry-run", Usage: "only compute the caps; upload nothing", Destination: &o.DryRun},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace an existing name at ALIAS:PATH", Destination: &o.Force},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("lafs put takes one or more FILE (or '-' for standard input), got 0 argument(s)")
			}
			o.Args = cCtx.Args().Slice()
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runPut(cCtx.Context, f, o)
		},
	}
}

func runPut(ctx context.Context, f *command.Factory, o putOptions) error {
	files := o.Args
	var dest *location.Location
	if len(files) >= 2 && location.IsGridArg(files[len(files)-1]) {
		aliases, err := f.Aliases()
		if err != nil {
			return err
		}
		destArg := files[len(files)-1]
		l, err := location.Parse(aliases, destArg)
		if err != nil {
			return aliasHint(err)
		}
		dest, files = &l, files[:len(files)-1]
		if o.DryRun {
			return command.Usagef("--dry-run uploads nothing, so it cannot link into %s", destArg)
		}
	}
	destIsDir := dest != nil && (dest.Directoryish() || len(files) > 1)
	// Every file first, so a typo in the third does not leave two uploaded.
	for _, name := range files {
		if name == "-" {
			continue
		}
		st, err := os.Stat(name)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", name, errors.Unwrap(err))
		}
		if st.IsDir() {
			return command.WithHint(fmt.Errorf("%s is a directory", name), "use 'lafs cp -r "+name+" ALIAS:PATH' to upload a tree")
		}
	}
	var s filestore.Store
	if !o.DryRun {
		var err error
		if s, err = f.Store(); err != nil {
			return err
		}
	}
	for _, name := range files {
		out, err := putOne(ctx, f, s, o, name, dest, destIsDir)
		if err != nil {
			return err
		}
		switch {
		case o.JSON:
			err = command.WriteJSONCompact(f.IO.Out, out)
		case len(files) == 1:
			_, err = fmt.Fprintln(f.IO.Out, out.Cap)
		default:
			_, err = fmt.Fprintf(f.IO.Out, "%s: %s\n", name, out.Cap)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// putOne uploads (or with DryRun only encodes) one file, and links it at
// dest when there is one.
func putOne(ctx context.Context, f *command.Factory, s filestore.Store, o putOptions, name string, dest *location.Location, destIsDir bool) (putJSON, error) {
	in, size, err := command.OpenInput(name, f.IO)
	if err != nil {
		return putJSON{}, err
	}
	defer in.Close()
	out := putJSON{File: name, Size: size, DryRun: o.DryRun}
	if o.DryRun {
		c, err := dryRunCap(ctx, f, in, size)
		if err != nil {
			return out, err
		}
		out.Cap = c.String()
		return out, nil
	}
	bar := bar(f, o.JSON, filepath.Base(name), int64(size))
	var last int64
	res, err := s.Upload(ctx, in, int64(size), filestore.UploadOptions{Progress: func(n int64) { bar.Add(n - last); last = n }})
	if err != nil {
		bar.Abort()
		return out, fmt.Errorf("uploading %s: %w", name, err)
	}
	bar.Finish()
	out.Cap = res.Cap.String()
	if pl := res.Placement; pl != nil {
		out.Happiness, out.Uploaded, out.Kept = pl.Happiness, pl.Uploaded, pl.Kept
	}
	if dest != nil {
		if err := linkUpload(ctx, s, dest.Path(), destIsDir, name, res.Cap, o.Force); err != nil {
			if errors.Is(err, filestore.ErrExists) {
				return out, command.WithHint(fmt.Errorf("%s: %w", dest, err), "use --force to replace it (the uploaded file's cap is "+out.Cap+")")
			}
			return out, err
		}
	}
	return out, nil
}

// dryRunCap computes the cap an upload would give, with the node's
// encoding parameters and convergence secret.
func dryRunCap(ctx context.Context, f *command.Factory, in *os.File, size uint64) (*caps.Cap, error) {
	node, err := f.Node()
	if err != nil {
		return nil, err
	}
	e, err := node.Encoding()
	if err != nil {
		return nil, err
	}
	secret, err := node.ConvergenceSecret()
	if err != nil {
		return nil, err
	}
	return chk.ComputeCap(ctx, in, size, chk.Params{Needed: e.Needed, Total: e.Total, MaxSegmentSize: e.MaxSegmentSize, Convergence: secret})
}

// linkUpload links an uploaded file at dest: inside it when it is (or is
// written as) a directory, else as that name.
func linkUpload(ctx context.Context, s filestore.Store, dest filestore.Path, destIsDir bool, local string, c *caps.Cap, replace bool) error {
	target := dest
	if existing, err := filestore.Lookup(ctx, s, dest); destIsDir || (err == nil && existing.IsDirectory()) {
		if local == "-" {
			return command.Usagef("standard input has no name: give the destination's file name")
		}
		target = dest.Join(filepath.Base(local))
	}
	dir, name, err := filestore.Parent(ctx, s, target)
	if err != nil {
		return err
	}
	return s.Link(ctx, dir, name, c, replace)
}
