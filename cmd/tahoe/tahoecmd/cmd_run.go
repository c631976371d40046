package tahoecmd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

func newRunCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	var debug, allowStdinClose bool
	return &cli.Command{
		Name:      "run",
		Usage:     "run a node (its storage server) in the foreground until interrupted",
		ArgsUsage: "[NODEDIR]",
		Description: "Serves the storage protocol (GBS over TLS) on tahoe.cfg's tub.port and writes the node's NURL,\n" +
			"FURL and a servers.yaml entry under NODEDIR/private/. Stops cleanly on SIGINT or SIGTERM, and when\n" +
			"its standard input closes (as Tahoe 1.17+ does, so a parent that dies takes the node with it)\n" +
			"unless --allow-stdin-close is given.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "log one line per request on stderr", Destination: &debug},
			&cli.BoolFlag{Name: "allow-stdin-close", Usage: `Do not exit when stdin closes ("tahoe run" otherwise will exit).`, Destination: &allowStdinClose},
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
			var in io.Reader
			if !allowStdinClose {
				in = stdio.In
			}
			return runNode(cCtx.Context, dir, logger, in)
		},
	}
}

// errStdinClosed is why a node stopped when its input closed.
var errStdinClosed = errors.New("standard input closed")

// runNode runs the node in dir until ctx ends or, when in is not nil,
// until reading in meets end of file or an error (what it reads is
// discarded). A node stopped by its input closing exits cleanly.
func runNode(ctx context.Context, dir string, logger *slog.Logger, in io.Reader) error {
	if in == nil {
		return node.RunNode(ctx, dir, logger)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		io.Copy(io.Discard, in)
		logger.Info("standard input closed: stopping (use --allow-stdin-close to keep running)")
		cancel(errStdinClosed)
	}()
	err := node.RunNode(ctx, dir, logger)
	if err != nil && errors.Is(context.Cause(ctx), errStdinClosed) && errors.Is(err, context.Canceled) {
		err = nil // stopped while starting: as clean a stop as any other
	}
	// Join the watcher where the input can be interrupted (a pipe or
	// terminal the runtime polls); a blocking file descriptor cannot be,
	// and its reader ends with the process, which this return ends.
	switch r := in.(type) {
	case *os.File:
		if r.SetReadDeadline(time.Now()) == nil {
			<-closed
		}
	case io.Closer:
		r.Close()
		<-closed
	}
	return err
}
