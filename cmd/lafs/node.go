package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/prefs"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// defaultLocalGridServers is the size of the embedded grid lafs creates on
// first use: enough for Tahoe's default 3-of-10, happy 7.
const defaultLocalGridServers = 10

// globalFlags are lafs's options before the command name.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"}, EnvVars: []string{"LAFS_NODE_DIRECTORY"},
			Usage: "the node directory to use (default: preferences' node_directory, else ~/.tahoe)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars or informational messages"},
	}
}

// session is what a lafs command works with: preferences, the node
// directory and the I/O.
type session struct {
	io    *command.IO
	prefs prefs.Prefs
	dir   string
}

func newSession(cCtx *cli.Context, stdio *command.IO) (*session, error) {
	p, err := prefs.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	dir := cCtx.String("node-directory") // urfave/cli looks through parent commands

	if dir == "" {
		dir = p.NodeDirectory
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no node directory: give --node-directory (%w)", err)
		}
		dir = filepath.Join(home, ".tahoe")
	}
	if cCtx.Bool("quiet") {
		stdio.Quiet = true
	}
	return &session{io: stdio, prefs: p, dir: dir}, nil
}

// node opens the node directory, creating a client node with an embedded
// local grid on first use (and saying so on stderr).
func (s *session) node() (*nodedir.Node, error) {
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		opts := node.NewNodeOptions()
		opts.NoStorage, opts.Listen, opts.WebPort = true, "none", "none"
		if err := node.CreateNode(s.dir, opts); err != nil {
			return nil, fmt.Errorf("creating node directory %s: %w", s.dir, err)
		}
		if err := localgrid.Create(s.dir, defaultLocalGridServers); err != nil {
			return nil, err
		}
		fmt.Fprintf(s.io.Err, "lafs: created node directory %s with an embedded local grid of %d servers\n", s.dir, defaultLocalGridServers)
	}
	return nodedir.Open(s.dir)
}

// jsonOutput reports whether output should be JSON: --json, or the
// preferences' output = "json".
func (s *session) jsonOutput(cCtx *cli.Context) bool {
	return cCtx.Bool("json") || (!cCtx.IsSet("json") && s.prefs.Output == "json")
}

// warn prints a warning line on stderr.
func (s *session) warn(msg string) { fmt.Fprintf(s.io.Err, "lafs: warning: %s\n", msg) }
