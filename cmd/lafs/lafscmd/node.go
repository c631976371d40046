package lafscmd

import (
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

// defaultLocalGridServers is the size of the embedded grid lafs creates on
// first use: enough for Tahoe's default 3-of-10, happy 7.
const defaultLocalGridServers = 10

// globalFlags are lafs's options before the command name; they fill f.
func globalFlags(f *command.Factory) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"}, EnvVars: []string{"LAFS_NODE_DIRECTORY"},
			Usage: "the node directory to use (default: preferences' node_directory, else ~/.tahoe)", Destination: &f.NodeDirFlag},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars or informational messages", Destination: &f.IO.Quiet},
	}
}

// createNode makes a client node directory with an embedded local grid
// (lafs's first use) and says so on stderr.
func createNode(stdio *command.IO, dir string) error {
	opts := node.NewNodeOptions()
	opts.NoStorage, opts.Listen, opts.WebPort = true, "none", "none"
	if err := node.CreateNode(dir, opts); err != nil {
		return fmt.Errorf("creating node directory %s: %w", dir, err)
	}
	if err := localgrid.Create(dir, defaultLocalGridServers); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Err, "lafs: created node directory %s with an embedded local grid of %d servers\n", dir, defaultLocalGridServers)
	return nil
}

// output is how a command prints: JSON (--json, or the preferences'
// output = "json") or for people.
type output struct {
	JSON bool
	set  bool // --json was given, either way
}

// jsonFlag is the --json flag of a command, filling o.
func jsonFlag(o *output, usage string) cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: usage, Destination: &o.JSON, Action: func(*cli.Context, bool) error {
		o.set = true
		return nil
	}}
}

// asJSON reports whether output should be JSON.
func asJSON(f *command.Factory, o output) (bool, error) {
	if o.set {
		return o.JSON, nil
	}
	p, err := f.Prefs()
	if err != nil {
		return false, err
	}
	return o.JSON || p.Output == "json", nil
}

// bar returns a progress bar on a terminal, or one that draws nothing.
func bar(f *command.Factory, json bool, label string, total int64) *progress.Bar {
	p, _ := f.Prefs()
	if f.IO.Quiet || !f.IO.ErrTTY || !p.ShowProgress() || json {
		return progress.Nop()
	}
	return progress.New(f.IO.Err, label, total)
}
