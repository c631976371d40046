package lafscmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

func newCatCommand(f *command.Factory) *cli.Command {
	var force bool
	return &cli.Command{
		Name:      "cat",
		Usage:     "write files to standard output",
		ArgsUsage: "CAP|ALIAS:PATH...",
		Description: "Downloads each file, verified, to standard output, one after the other. On a terminal it\n" +
			"refuses a file that looks binary (a NUL byte or invalid UTF-8 in its first 8 KiB) unless --force.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "write binary data to a terminal anyway", Destination: &force}},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("lafs cat takes one or more CAP|ALIAS:PATH, got 0 argument(s)")
			}
			return runCat(cCtx.Context, f, cCtx.Args().Slice(), force)
		},
	}
}

// errBinary stops a binary file on its way to a terminal.
var errBinary = errors.New("binary output can mess up your terminal")

// ttyGuard passes text through; the first 8 KiB decide whether the data
// is binary, and binary data is refused before any of it is written.
type ttyGuard struct {
	w       io.Writer
	head    []byte
	decided bool
}

const guardHead = 8 << 10

func (g *ttyGuard) Write(p []byte) (int, error) {
	if g.decided {
		return g.w.Write(p)
	}
	g.head = append(g.head, p...)
	if len(g.head) < guardHead {
		return len(p), nil
	}
	return len(p), g.flush()
}

func (g *ttyGuard) flush() error {
	if g.decided {
		return nil
	}
	g.decided = true
	if looksBinary(g.head) {
		return errBinary
	}
	_, err := g.w.Write(g.head)
	return err
}

func looksBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	// A multi-byte rune cut at the end of the sample is not binary.
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return !utf8.Valid(b)
}

func runCat(ctx context.Context, f *command.Factory, args []string, force bool) error {
	s, err := f.Store()
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	for _, arg := range args {
		c, err := filestore.LookupFile(ctx, s, aliases, arg)
		if err != nil {
			return aliasHint(err)
		}
		var w io.Writer = f.IO.Out
		var g *ttyGuard
		if f.IO.OutTTY && !force {
			g = &ttyGuard{w: f.IO.Out}
			w = g
		}
		err = s.Download(ctx, c, w, filestore.DownloadOptions{})
		if err == nil && g != nil {
			err = g.flush()
		}
		if errors.Is(err, errBinary) {
			return command.WithHint(err, "use 'lafs cat --force' to write it anyway, or 'lafs get "+arg+" FILE'")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
