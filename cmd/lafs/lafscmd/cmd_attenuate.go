package lafscmd

import (
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/urfave/cli/v2"
)

type attenuateOptions struct {
	To   string // "", "read" or "verify"
	JSON bool
	// Path is the grid path the cap was looked up at (share), "" for none.
	Path string
	// AllowSame prints a cap already at the level wanted (share of a read cap).
	AllowSame bool
}

func newAttenuateCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	var opts attenuateOptions
	var out output
	return &cli.Command{
		Name:      "attenuate",
		Usage:     "print a weaker capability: writecap → readcap → verifycap",
		ArgsUsage: "[CAP|-]",
		Description: "Without --to, prints the cap one step weaker: a writecap's readcap, a readcap's verifycap.\n" +
			"CAP is read from standard input when it is '-' or absent.\n" +
			"Exit status: 0 success, 1 invalid cap or no weaker cap exists, 2 usage error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the authority wanted: read or verify", Destination: &opts.To},
			jsonFlag(&out, "print {cap, kind, from, from_kind}"),
		},
		Action: func(cCtx *cli.Context) error {
			s, err := command.ArgOrStdin(cCtx, stdio, "cap")
			if err != nil {
				return err
			}
			if opts.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runAttenuate(stdio, opts, s)
		},
	}
}

type attenuateJSON struct {
	Cap      string `json:"cap"`
	Kind     string `json:"kind"`
	From     string `json:"from"`
	FromKind string `json:"from_kind"`
	Path     string `json:"path,omitempty"`
}

func runAttenuate(stdio *command.IO, opts attenuateOptions, s string) error {
	var target caps.Level
	explicit := true
	switch opts.To {
	case "read":
		target = caps.LevelRead
	case "verify":
		target = caps.LevelVerify
	case "":
		explicit = false
	default:
		return command.Usagef("--to %q: want read or verify", opts.To)
	}
	c, err := caps.Parse(s)
	if err != nil {
		return err
	}
	have, known := c.Level()
	if !known {
		_, err := c.Attenuate(caps.LevelVerify)
		return err
	}
	if !explicit {
		if have == caps.LevelVerify {
			return command.WithHint(fmt.Errorf("%s is already a verify cap: nothing is weaker", c.Kind),
				"a verify cap can check a file's shares but not read it; there is no weaker cap")
		}
		target = have - 1
	}
	out := c
	if !opts.AllowSame || have > target {
		if out, err = c.Attenuate(target); err != nil {
			return err
		}
	}
	if opts.JSON {
		return command.WriteJSONCompact(stdio.Out, attenuateJSON{Cap: out.String(), Kind: string(out.Kind), From: c.String(), FromKind: string(c.Kind), Path: opts.Path})
	}
	_, err = fmt.Fprintln(stdio.Out, out.String())
	return err
}
