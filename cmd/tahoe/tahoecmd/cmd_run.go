package tahoecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/version"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/webapi"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"
)

func newRunCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	var debug, allowStdinClose bool
	return &cli.Command{
		Name:      "run",
		Usage:     "run a node (its web API and storage server) in the foreground until interrupted",
		ArgsUsage: "[NODEDIR]",
		Description: "Serves the web API on tahoe.cfg's [node] web.port (writing node.url and private/api_auth_token\n" +
			"as Tahoe does) over the grid the node directory configures, and, when storage is enabled, the\n" +
			"storage protocol (GBS over TLS) on tub.port, writing the node's NURL, FURL and a servers.yaml\n" +
			"entry under NODEDIR/private/. Stops cleanly on SIGINT or SIGTERM, and when its standard input\n" +
			"closes (as Tahoe 1.17+ does, so a parent that dies takes the node with it) unless\n" +
			"--allow-stdin-close is given.",
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

// serveWebAPI serves the node's web API until ctx ends, when tahoe.cfg
// enables it, over the grid the node directory configures.
func serveWebAPI(ctx context.Context, dir string, logger *slog.Logger) error {
	nd, err := nodedir.Open(dir)
	if err != nil {
		return err
	}
	if _, err := webapi.ParseEndpoint(nd.Config.String("node", "web.port", "")); errors.Is(err, webapi.ErrDisabled) {
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: [node] web.port: %w", nd.Path("tahoe.cfg"), err)
	}
	// A node serves its own grid, never another node's web API: a
	// node.url left from an earlier run must not make it talk to itself.
	mode, err := lafs.Detect(nd, lafs.Options{})
	if err == nil && mode == lafs.ModeGateway {
		err = lafs.ErrNoGrid
	}
	if err != nil {
		if errors.Is(err, lafs.ErrNoGrid) {
			logger.Warn("the web API is not served: this node directory has no grid (no private/servers.yaml and no embedded local grid)")
			return nil
		}
		return err
	}
	store, _, err := lafs.Open(nd, lafs.Options{Warn: func(msg string) { logger.Warn(msg) }})
	if err != nil {
		return err
	}
	defer store.Close()
	return webapi.ListenAndServe(ctx, nd, store, webapi.ServeOptions{
		Logger: logger,
		Server: webapi.Options{Logger: logger, Node: webapi.NodeInfo{Version: version.Line()}},
		Ready:  func(url string) { logger.Info("web API listening", "url", url) },
	})
}

// errStdinClosed is why a node stopped when its input closed.
var errStdinClosed = errors.New("standard input closed")

// runNode runs the node in dir until ctx ends or, when in is not nil,
// until reading in meets end of file or an error (what it reads is
// discarded). A node stopped by its input closing exits cleanly.
func runNode(ctx context.Context, dir string, logger *slog.Logger, in io.Reader) error {
	if in == nil {
		return serveNode(ctx, dir, logger)
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
	err := serveNode(ctx, dir, logger)
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

// serveNode serves the node's storage server and its web API, each when
// tahoe.cfg enables it, until ctx ends or one of them fails.
func serveNode(ctx context.Context, dir string, logger *slog.Logger) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return node.RunNode(ctx, dir, logger) })
	g.Go(func() error { return serveWebAPI(ctx, dir, logger) })
	return g.Wait()
}
