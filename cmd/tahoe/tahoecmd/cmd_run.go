package tahoecmd

import (
	"log/slog"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

func newRunCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	var debug bool
	return &cli.Command{
		Name:      "run",
		Usage:     "run a node (its storage server) in the foreground until interrupted",
		ArgsUsage: "[NODEDIR]",
		Description: "Serves the storage protocol (GBS over TLS) on tahoe.cfg's tub.port and writes the node's NURL,\n" +
			"FURL and a servers.yaml entry under NODEDIR/private/. Stops cleanly on SIGINT or SIGTERM.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "log one line per request on stderr", Destination: &debug},
		},
		Action: func(cCtx *cli.Context) error {
			dir, err := nodeDirArg(cCtx, f)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			if stdio.Quiet {
				level = slog.LevelWarn
			}
			logger := slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: level}))
			return node.RunNode(cCtx.Context, dir, logger)
		},
	}
}
