package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/urfave/cli/v2"
)

// openClient opens the session's node directory and its grid.
func (s *session) openClient() (filestore.Store, error) {
	node, err := s.node()
	if err != nil {
		return nil, err
	}
	c, _, err := lafs.Open(node, lafs.Options{Warn: s.warn})
	if errors.Is(err, lafs.ErrNoGrid) {
		return nil, command.WithHint(err,
			"add storage servers to private/servers.yaml, or start a dev grid with 'lafs grid up DIR'")
	}
	return c, err
}

// bar returns a progress bar on a terminal, or one that draws nothing.
func (s *session) bar(cCtx *cli.Context, label string, total int64) *progress.Bar {
	if s.io.Quiet || !s.io.ErrTTY || !s.prefs.ShowProgress() || s.jsonOutput(cCtx) {
		return progress.Nop()
	}
	return progress.New(s.io.Err, label, total)
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

func newPutCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "put",
		Usage:     "upload files and print their caps",
		ArgsUsage: "FILE... | -",
		Description: "Uploads each FILE (or standard input for '-') as an immutable file. One file: prints its cap;\n" +
			"several: 'FILE: CAP' lines. --json prints one JSON object per file (JSON Lines).\n" +
			"--dry-run computes the caps without touching the grid.\n" +
			"Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON Lines: {file, cap, size, happiness, shares_uploaded, shares_kept}"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "only compute the caps; upload nothing"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("put needs at least one FILE (or '-' for standard input)")
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			return runPut(cCtx, s, cCtx.Args().Slice())
		},
	}
}

func runPut(cCtx *cli.Context, s *session, files []string) error {
	asJSON := s.jsonOutput(cCtx)
	dry := cCtx.Bool("dry-run")
	var dest *filestore.Path
	destIsDir := false
	if len(files) >= 2 && isGridPath(files[len(files)-1]) {
		destArg := files[len(files)-1]
		p, err := s.path(destArg)
		if err != nil {
			return err
		}
		dest, files = &p, files[:len(files)-1]
		destIsDir = strings.HasSuffix(destArg, "/") || strings.HasSuffix(destArg, ":") || len(files) > 1
		if dry {
			return command.Usagef("--dry-run uploads nothing, so it cannot link into %s", destArg)
		}
	}
	var c filestore.Store
	if !dry {
		var err error
		if c, err = s.openClient(); err != nil {
			return err
		}
		defer c.Close()
	}
	for _, name := range files {
		f, size, err := command.OpenInput(name, s.io)
		if err != nil {
			return err
		}
		out := putJSON{File: name, Size: size, DryRun: dry}
		bar := s.bar(cCtx, filepath.Base(name), int64(size))
		if dry {
			cp, err := s.dryRunCap(cCtx, f, size)
			if err != nil {
				f.Close()
				return err
			}
			out.Cap = cp.String()
		} else {
			var last int64
			res, err := c.Upload(cCtx.Context, f, int64(size), filestore.UploadOptions{Progress: func(n int64) { bar.Add(n - last); last = n }})
			if err != nil {
				bar.Abort()
				f.Close()
				return fmt.Errorf("uploading %s: %w", name, err)
			}
			out.Cap = res.Cap.String()
			if pl := res.Placement; pl != nil {
				out.Happiness, out.Uploaded, out.Kept = pl.Happiness, pl.Uploaded, pl.Kept
			}
			if dest != nil {
				if err := linkUpload(cCtx, c, *dest, destIsDir, name, res.Cap); err != nil {
					f.Close()
					return err
				}
			}
		}
		bar.Finish()
		f.Close()
		switch {
		case asJSON:
			if err := command.WriteJSONCompact(s.io.Out, out); err != nil {
				return err
			}
		case len(files) == 1:
			fmt.Fprintln(s.io.Out, out.Cap)
		default:
			fmt.Fprintf(s.io.Out, "%s: %s\n", name, out.Cap)
		}
	}
	return nil
}

// dryRunCap computes the cap an upload would give, with the node's
// encoding parameters and convergence secret.
func (s *session) dryRunCap(cCtx *cli.Context, f *os.File, size uint64) (*caps.Cap, error) {
	node, err := s.node()
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
	return chk.ComputeCap(cCtx.Context, f, size, chk.Params{Needed: e.Needed, Total: e.Total, MaxSegmentSize: e.MaxSegmentSize, Convergence: secret})
}

// linkUpload links an uploaded file at dest: inside it when it is (or is
// written as) a directory, else as that name.
func linkUpload(cCtx *cli.Context, c filestore.Store, dest filestore.Path, destIsDir bool, local string, cp *caps.Cap) error {
	target := dest
	if existing, err := filestore.Lookup(cCtx.Context, c, dest); destIsDir || (err == nil && existing.IsDirectory()) {
		if local == "-" {
			return command.Usagef("standard input has no name: give the destination's file name")
		}
		target = dest.Join(filepath.Base(local))
	}
	dir, name, err := filestore.Parent(cCtx.Context, c, target)
	if err != nil {
		return err
	}
	return c.Link(cCtx.Context, dir, name, cp, true)
}

type getJSON struct {
	Cap  string `json:"cap"`
	File string `json:"file"`
	Size uint64 `json:"size"`
}

func newGetCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "download a file by its cap",
		ArgsUsage: "CAP [FILE|-]",
		Description: "Writes to FILE (never overwriting an existing one without --force), or to stdout when FILE\n" +
			"is '-' or absent. FILE appears only when the whole file was downloaded and verified.\n" +
			"Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite FILE if it exists"},
			&cli.BoolFlag{Name: "json", Usage: "print {cap, file, size} when done"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 1 || cCtx.NArg() > 2 {
				return command.Usagef("get takes CAP and an optional FILE, got %d arguments", cCtx.NArg())
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			return runGet(cCtx, s, cCtx.Args().Get(0), cCtx.Args().Get(1))
		},
	}
}

func runGet(cCtx *cli.Context, s *session, capStr, to string) error {
	c, err := s.openClient()
	if err != nil {
		return err
	}
	defer c.Close()
	node, err := s.node()
	if err != nil {
		return err
	}
	aliases, err := node.Aliases()
	if err != nil {
		return err
	}
	cp, err := filestore.LookupFile(cCtx.Context, c, aliases, capStr)
	if err != nil {
		return err
	}
	size, _ := cp.SizeKnown()
	if to == "" || to == "-" {
		return c.Download(cCtx.Context, cp, s.io.Out, filestore.DownloadOptions{})
	}
	out, err := safefile.Create(to, cCtx.Bool("force"))
	if err != nil {
		return err
	}
	bar := s.bar(cCtx, filepath.Base(to), int64(size))
	if err := c.Download(cCtx.Context, cp, multi{out.File, bar}, filestore.DownloadOptions{}); err != nil {
		bar.Abort()
		out.Abort()
		return err
	}
	bar.Finish()
	if err := out.Commit(); err != nil {
		return err
	}
	if s.jsonOutput(cCtx) {
		return command.WriteJSONCompact(s.io.Out, getJSON{Cap: cp.String(), File: to, Size: size})
	}
	return nil
}

// multi writes to a file and counts progress.
type multi struct {
	w interface{ Write([]byte) (int, error) }
	p *progress.Bar
}

func (m multi) Write(b []byte) (int, error) {
	n, err := m.w.Write(b)
	m.p.Add(int64(n))
	return n, err
}
