package tahoecmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

// createFlags are Tahoe's create-client options; create-node adds its own.
func createFlags(o *node.NodeOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nickname", Aliases: []string{"n"}, Usage: "the nickname for this node", Destination: &o.Nickname},
		&cli.StringFlag{Name: "webport", Aliases: []string{"p"}, Value: o.WebPort, Usage: "the web API's TCP endpoint; 'none' to disable", Destination: &o.WebPort},
		&cli.StringFlag{Name: "basedir", Aliases: []string{"C"}, Usage: "the node directory (same as the global --node-directory)"},
		&cli.IntFlag{Name: "shares-needed", Value: o.SharesNeeded, Usage: "needed shares (k) for uploaded files", Destination: &o.SharesNeeded},
		&cli.IntFlag{Name: "shares-happy", Value: o.SharesHappy, Usage: "how many servers new files must be placed on", Destination: &o.SharesHappy},
		&cli.IntFlag{Name: "shares-total", Value: o.SharesTotal, Usage: "total shares (N) for uploaded files", Destination: &o.SharesTotal},
		&cli.StringFlag{Name: "introducer", Aliases: []string{"i"}, Usage: "introducer FURL (not supported: use private/servers.yaml)"},
		&cli.BoolFlag{Name: "hide-ip", Usage: "prohibit configurations that reveal the IP address (not supported)"},
	}
}

// nodeDirArg resolves the node directory: the positional NODEDIR, then
// --basedir, then the global --node-directory.
func nodeDirArg(cCtx *cli.Context, f *command.Factory) (string, error) {
	if cCtx.NArg() > 1 {
		return "", command.Usagef("%s takes at most one NODEDIR, got %d arguments", cCtx.Command.HelpName, cCtx.NArg())
	}
	dir := cCtx.Args().First()
	if dir == "" {
		dir = cCtx.String("basedir")
	}
	if dir == "" {
		var err error
		if dir, err = f.NodeDir(); err != nil {
			return "", err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("node directory: %w", err)
	}
	return abs, nil
}

func unsupportedCreateFlags(cCtx *cli.Context) error {
	for _, name := range []string{"introducer", "hide-ip"} {
		if cCtx.IsSet(name) {
			return command.Usagef("--%s is not supported: lafs uses static servers (private/servers.yaml)", name)
		}
	}
	return nil
}

func mapCreateError(err error) error {
	if errors.Is(err, node.ErrUsage) {
		msg := strings.TrimSuffix(err.Error(), ": "+node.ErrUsage.Error())
		return &command.Error{Err: errors.New(msg), Code: command.ExitUsage}
	}
	return err
}

// printCreated prints Tahoe's closing lines after creating a node.
func printCreated(stdio *command.IO, dir string, nickname string) {
	fmt.Fprintf(stdio.Out, "Node created in '%s'\n", dir)
	if nickname == "" {
		fmt.Fprintf(stdio.Out, " Please set [node]nickname= in '%s'\n", filepath.Join(dir, "tahoe.cfg"))
	}
}

func newCreateClientCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	opts := node.NewNodeOptions()
	var localGrid int
	flags := append(createFlags(&opts),
		&cli.IntFlag{Name: "local-grid", Usage: "also create an embedded grid of N storage servers inside the node directory", Destination: &localGrid})
	return &cli.Command{
		Name:        "create-client",
		Usage:       "create a client-only node directory (no storage server)",
		ArgsUsage:   "[NODEDIR]",
		Description: "With --local-grid=N the client gets an embedded grid of N servers kept inside NODEDIR, so put and get work with no other setup.",
		Flags:       flags,
		Action: func(cCtx *cli.Context) error {
			if err := unsupportedCreateFlags(cCtx); err != nil {
				return err
			}
			dir, err := nodeDirArg(cCtx, f)
			if err != nil {
				return err
			}
			if cCtx.IsSet("local-grid") && (localGrid < 1 || localGrid > 256) {
				return command.Usagef("--local-grid=%d: want 1 to 256 servers", localGrid)
			}
			opts.NoStorage = true
			opts.Listen = "none"
			if err := createNode(stdio, dir, opts); err != nil {
				return err
			}
			if localGrid > 0 {
				if err := localgrid.Create(dir, localGrid); err != nil {
					return err
				}
				fmt.Fprintf(stdio.Out, " Embedded local grid of %d servers in '%s'\n", localGrid, filepath.Join(dir, localgrid.Dir))
			}
			return nil
		},
	}
}

func newCreateNodeCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	opts := node.NewNodeOptions()
	flags := append(createFlags(&opts),
		&cli.BoolFlag{Name: "no-storage", Usage: "do not offer storage service to other nodes", Destination: &opts.NoStorage},
		&cli.StringFlag{Name: "storage-dir", Usage: "where the storage will be placed", Destination: &opts.StorageDir},
		&cli.StringFlag{Name: "listen", Value: opts.Listen, Usage: "listener types: tcp or none", Destination: &opts.Listen},
		&cli.StringFlag{Name: "hostname", Usage: "hostname to advertise (with --listen=tcp)", Destination: &opts.Hostname},
		&cli.StringFlag{Name: "location", Usage: "server location to advertise (tcp:HOST:PORT)", Destination: &opts.Location},
		&cli.StringFlag{Name: "port", Usage: "the endpoint to listen on (tcp:PORT[:interface=ADDR])", Destination: &opts.Port},
	)
	return &cli.Command{
		Name:      "create-node",
		Usage:     "create a node directory with a storage server",
		ArgsUsage: "[NODEDIR]",
		Description: "Give either --hostname (with --listen=tcp, the default) or both --port and --location.\n" +
			"Start the node with 'tahoe run NODEDIR'.",
		Flags: flags,
		Action: func(cCtx *cli.Context) error {
			if err := unsupportedCreateFlags(cCtx); err != nil {
				return err
			}
			dir, err := nodeDirArg(cCtx, f)
			if err != nil {
				return err
			}
			return createNode(stdio, dir, opts)
		},
	}
}

func createNode(stdio *command.IO, dir string, opts node.NodeOptions) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return command.WithHint(fmt.Errorf("the base directory '%s' is not empty; to avoid clobbering anything, nothing was created", dir),
			"use a different directory, or empty this one")
	}
	if err := node.CreateNode(dir, opts); err != nil {
		return mapCreateError(err)
	}
	printCreated(stdio, dir, opts.Nickname)
	return nil
}
