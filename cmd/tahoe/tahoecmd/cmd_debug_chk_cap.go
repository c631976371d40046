package tahoecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/urfave/cli/v2"
)

type chkCapOptions struct {
	Needed, Total   int
	SegmentSize     int64
	Convergence     string
	ConvergenceFile string
}

func newDebugChkCapCommand(stdio *command.IO) *cli.Command {
	o := chkCapOptions{Needed: 3, Total: 10, SegmentSize: chk.DefaultMaxSegmentSize}
	return &cli.Command{
		Name:      "chk-cap",
		Usage:     "print the cap an upload of FILE would produce, touching no grid",
		ArgsUsage: "FILE|-",
		Description: "Encodes FILE as an upload with these parameters would (convergent key, erasure coding, hash\n" +
			"trees) and prints the resulting URI:CHK: (or URI:LIT: for files of 55 bytes or less).\n" +
			"The convergence secret is given as Tahoe keeps it in private/convergence (base32).\n" +
			"Exit status: 0 success, 1 unreadable input, 2 bad parameters.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "needed", Aliases: []string{"k"}, Value: o.Needed, Usage: "shares needed (k)", Destination: &o.Needed},
			&cli.IntFlag{Name: "total", Aliases: []string{"N"}, Value: o.Total, Usage: "total shares (N)", Destination: &o.Total},
			&cli.Int64Flag{Name: "segment-size", Value: o.SegmentSize, Usage: "maximum segment size in bytes", Destination: &o.SegmentSize},
			&cli.StringFlag{Name: "convergence", Usage: "the convergence secret, base32 (default: empty secret)", Destination: &o.Convergence},
			&cli.StringFlag{Name: "convergence-file", Usage: "read the convergence secret from a file (e.g. NODEDIR/private/convergence)", Destination: &o.ConvergenceFile},
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "FILE|-"); err != nil {
				return err
			}
			if cCtx.IsSet("convergence") && cCtx.IsSet("convergence-file") {
				return command.Usagef("give --convergence or --convergence-file, not both")
			}
			return runChkCap(cCtx.Context, stdio, o, cCtx.Args().First())
		},
	}
}

func runChkCap(ctx context.Context, stdio *command.IO, o chkCapOptions, path string) error {
	secretText := o.Convergence
	if o.ConvergenceFile != "" {
		b, err := os.ReadFile(o.ConvergenceFile)
		if err != nil {
			return fmt.Errorf("reading the convergence secret: %w", err)
		}
		secretText = strings.TrimSpace(string(b))
	}
	secret, err := caps.Base32Decode(secretText)
	if err != nil {
		return command.Usagef("convergence secret: %v", err)
	}
	p := chk.Params{Needed: o.Needed, Total: o.Total, MaxSegmentSize: o.SegmentSize, Convergence: secret}
	if err := p.Validate(); err != nil {
		return command.Usagef("%v", strings.TrimSuffix(err.Error(), ": "+chk.ErrParams.Error()))
	}
	var f *os.File
	var size uint64
	if path == "-" {
		f, size, err = chk.Spool(stdio.In, "")
		if err != nil {
			return err
		}
	} else {
		f, err = os.Open(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if st.IsDir() {
			f.Close()
			return fmt.Errorf("%s is a directory", path)
		}
		size = uint64(st.Size())
	}
	defer f.Close()
	c, err := chk.ComputeCap(ctx, f, size, p)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdio.Out, c.String())
	return err
}
