package lafscmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// initOptions are init's argument and switches.
type initOptions struct {
	Dir     string // "" for the node directory lafs would use
	Servers int
	JSON    bool
}

func newInitCommand(f *command.Factory) *cli.Command {
	o := initOptions{Servers: defaultLocalGridServers}
	var out output
	return &cli.Command{
		Name:      "init",
		Usage:     "create a node directory with an embedded local test grid",
		ArgsUsage: "[DIR]",
		Description: "Creates DIR (default: the node directory lafs uses, ~/.tahoe) as a client node directory whose\n" +
			"grid is N share directories inside it, on this disk. lafs does this itself on first use of\n" +
			"the default ~/.tahoe only: a -d, LAFS_NODE_DIRECTORY or node_directory that does not exist is\n" +
			"an error, so that a typo never becomes a new, empty grid.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "local-grid", Value: defaultLocalGridServers, Usage: "how many share directories the local grid has", Destination: &o.Servers},
			jsonFlag(&out, "print {node_directory, servers}"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("lafs init takes at most one DIR, got %d argument(s)", cCtx.NArg())
			}
			o.Dir = cCtx.Args().First()
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runInit(f, o)
		},
	}
}

type initJSON struct {
	NodeDirectory string `json:"node_directory"`
	Servers       int    `json:"servers"`
}

func runInit(f *command.Factory, o initOptions) error {
	dir := o.Dir
	var err error
	if dir == "" {
		if dir, err = f.NodeDir(); err != nil {
			return err
		}
	} else if dir, err = command.ExpandHome(dir); err != nil {
		return err
	}
	if o.Servers < 1 || o.Servers > 256 {
		return command.Usagef("--local-grid %d: want 1 to 256", o.Servers)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return &command.Error{Err: fmt.Errorf("%s already exists", dir), Code: command.ExitError, Kind: command.CodeExists,
			Hint: "lafs init makes a new node directory; use the existing one with 'lafs -d " + dir + " status'"}
	}
	if err := createNode(f.IO, dir, o.Servers); err != nil {
		return err
	}
	if o.JSON {
		return command.WriteJSONCompact(f.IO.Out, initJSON{NodeDirectory: dir, Servers: o.Servers})
	}
	return nil
}
