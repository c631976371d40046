package lafscmd

import (
	"fmt"
	"text/tabwriter"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/version"
	"github.com/urfave/cli/v2"
)

func newVersionCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	var out output
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, Go version and source revision (lafs -v version: and the dependencies)",
		Flags: []cli.Flag{
			jsonFlag(&out, "print the report as JSON"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 0 {
				return command.Usagef("lafs version takes no arguments, got %d", cCtx.NArg())
			}
			// Broken preferences must not stop the version report.
			j, err := asJSON(f, out)
			return runVersion(stdio, j && err == nil, f.Verbose)
		},
	}
}

func runVersion(stdio *command.IO, asJSON, deps bool) error {
	info := version.Read()
	if asJSON {
		return command.WriteJSONCompact(stdio.Out, info)
	}
	w := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%s\t%s\n", info.App, info.Version)
	fmt.Fprintf(w, "go\t%s %s/%s\n", info.GoVersion, info.OS, info.Arch)
	rev := info.Revision
	if info.Modified {
		rev += " (modified)"
	}
	fmt.Fprintf(w, "revision\t%s\n", rev)
	for _, d := range info.Deps {
		if !deps {
			break
		}
		v := d.Version
		if d.Replace != "" {
			v += " => " + d.Replace
		}
		fmt.Fprintf(w, "%s\t%s\n", d.Path, v)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, warn := range info.Warnings {
		fmt.Fprintf(stdio.Err, "lafs: warning: %s\n", warn)
	}
	return nil
}
