package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lafs/lafs/internal/checkcli"
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// checkOptions are lafs check's switches and paths.
type checkOptions struct {
	checkcli.LafsOptions
	Paths []string
}

func newCheckCommand(f *command.Factory) *cli.Command {
	var o checkOptions
	var out output
	return &cli.Command{
		Name:      "check",
		Usage:     "check files and directories: shares good of expected, happiness; --repair fixes what is not healthy (exit 1 when something is left unhealthy)",
		ArgsUsage: "PATH...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verify", Usage: "read every share in full and check every hash", Destination: &o.Verify},
			&cli.BoolFlag{Name: "repair", Usage: "repair what is not healthy", Destination: &o.Repair},
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "check everything under each directory", Destination: &o.Recursive},
			&cli.BoolFlag{Name: "add-lease", Usage: "renew this node's lease on every share", Destination: &o.AddLease},
			jsonFlag(&out, "print one JSON object per line, per object checked"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("lafs check takes one or more ALIAS:PATH|CAP, got 0 argument(s)")
			}
			o.Paths = cCtx.Args().Slice()
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runCheck(cCtx.Context, f, o)
		},
	}
}

// counter draws "checking: N objects" on a terminal's stderr.
type counter struct {
	mu   sync.Mutex
	f    *command.Factory
	n    int
	last time.Time
}

func (c *counter) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if now := time.Now(); now.Sub(c.last) >= 100*time.Millisecond {
		c.last = now
		fmt.Fprintf(c.f.IO.Err, "\r\033[Kchecking: %d objects", c.n)
	}
}

func (c *counter) done() {
	if c.n > 0 && !c.last.IsZero() {
		fmt.Fprint(c.f.IO.Err, "\r\033[K")
	}
}

func runCheck(ctx context.Context, f *command.Factory, o checkOptions) error {
	s, err := f.Store()
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	e := checkcli.Env{Store: s, Aliases: aliases, Stdout: f.IO.Out, Stderr: f.IO.Err}
	if o.Recursive && f.IO.ErrTTY && !f.IO.Quiet && !o.JSON {
		c := &counter{f: f}
		o.OnObject = c.add
		defer c.done()
	}
	err = checkcli.LafsCheck(ctx, e, o.Paths, o.LafsOptions)
	if errors.Is(err, checkcli.ErrUnhealthy) && !o.Repair {
		return command.WithHint(err, "lafs check --repair rebuilds what is missing")
	}
	return err
}
