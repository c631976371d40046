package lafscmd

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/devgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/urfave/cli/v2"
)

// gridS3 completes the S3 configuration of 'lafs grid up' from its flags
// and makes the bucket.
func gridS3(cCtx *cli.Context, c *s3.Config, secretFile string) error {
	if secretFile == "" {
		return command.Usagef("--s3-url needs --s3-secret-file (and --s3-bucket, --s3-access-key-id)")
	}
	b, err := os.ReadFile(secretFile)
	if err != nil {
		return fmt.Errorf("S3 secret access key: %w", err)
	}
	c.SecretAccessKey = strings.TrimSpace(string(b))
	if err := c.Validate(); err != nil {
		return command.Usagef("%v", err)
	}
	return s3.CreateBucket(cCtx.Context, *c)
}

func newGridCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	o := devgrid.Options{Servers: 5, Needed: 3, Happy: 4, Total: 5}
	var s3c s3.Config
	var s3SecretFile string
	return &cli.Command{
		Name:  "grid",
		Usage: "run a networked development grid of storage nodes on 127.0.0.1",
		Description: "'lafs grid up DIR' creates DIR (storage nodes DIR/storage-NN and a client node DIR/client whose\n" +
			"private/servers.yaml lists them) and starts every node as its own process serving the HTTP storage\n" +
			"protocol over TLS. Use the grid with 'lafs -d DIR/client ...' or 'tahoe -d DIR/client ...'.",
		Subcommands: []*cli.Command{
			{
				Name:      "up",
				Usage:     "create (if needed) and start the grid's storage nodes",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "servers", Value: o.Servers, Usage: "storage nodes in a new grid", Destination: &o.Servers},
					&cli.IntFlag{Name: "needed", Aliases: []string{"shares-needed"}, Value: o.Needed, Usage: "the client's shares.needed (k; default from --servers)", Destination: &o.Needed},
					&cli.IntFlag{Name: "happy", Aliases: []string{"shares-happy"}, Value: o.Happy, Usage: "the client's shares.happy (default from --servers)", Destination: &o.Happy},
					&cli.IntFlag{Name: "total", Aliases: []string{"shares-total"}, Value: o.Total, Usage: "the client's shares.total (N; default from --servers)", Destination: &o.Total},
					&cli.StringFlag{Name: "reserved-space", Usage: "each node's [storage] reserved_space (e.g. 10M)", Destination: &o.ReservedSpace},
					&cli.StringFlag{Name: "s3-url", Usage: "keep the nodes' shares in this S3 endpoint's bucket ([storage] backend = cloud.s3), one prefix per node", Destination: &s3c.URL},
					&cli.StringFlag{Name: "s3-region", Usage: "the S3 region (default us-east-1)", Destination: &s3c.Region},
					&cli.StringFlag{Name: "s3-bucket", Usage: "the S3 bucket (created if missing)", Destination: &s3c.Bucket},
					&cli.StringFlag{Name: "s3-prefix", Usage: "a key prefix above the nodes' own", Destination: &s3c.Prefix},
					&cli.StringFlag{Name: "s3-access-key-id", Usage: "the S3 access key id", Destination: &s3c.AccessKeyID},
					&cli.StringFlag{Name: "s3-secret-file", Usage: "a file holding the S3 secret access key", Destination: &s3SecretFile},
				},
				Action: func(cCtx *cli.Context) error {
					if err := command.ExactArgs(cCtx, 1, "DIR"); err != nil {
						return err
					}
					dir, err := filepath.Abs(cCtx.Args().First())
					if err != nil {
						return err
					}
					exe, err := os.Executable()
					if err != nil {
						return fmt.Errorf("locating the lafs binary: %w", err)
					}
					o.Executable, o.ServeArgs = exe, []string{"grid", "serve"}
					k, h, n := encodingFor(o.Servers)
					if !cCtx.IsSet("needed") {
						o.Needed = k
					}
					if !cCtx.IsSet("happy") {
						o.Happy = max(h, o.Needed)
					}
					if !cCtx.IsSet("total") {
						o.Total = max(n, o.Happy)
					}
					if err := checkGridUp(dir, o); err != nil {
						return err
					}
					if s3c.URL != "" {
						if err := gridS3(cCtx, &s3c, s3SecretFile); err != nil {
							return err
						}
						o.S3 = &s3c
					}
					if nodes, _ := devgrid.Nodes(dir); len(nodes) == 0 {
						if err := devgrid.Create(dir, o); err != nil {
							return err
						}
					}
					if err := devgrid.Start(cCtx.Context, dir, o, nil); err != nil {
						return err
					}
					nodes, _ := devgrid.Nodes(dir)
					if !stdio.Quiet {
						fmt.Fprintf(stdio.Out, "grid of %d storage nodes up in %s\nclient node directory: %s\n", len(nodes), dir, devgrid.ClientDir(dir))
					}
					return nil
				},
			},
			{
				Name:      "start",
				Usage:     "start stopped storage nodes (all, or the given indexes)",
				ArgsUsage: "DIR [INDEX...]",
				Action: func(cCtx *cli.Context) error {
					dir, which, err := gridArgs(cCtx)
					if err != nil {
						return err
					}
					exe, err := os.Executable()
					if err != nil {
						return err
					}
					if err := devgrid.Start(cCtx.Context, dir, devgrid.Options{Executable: exe, ServeArgs: []string{"grid", "serve"}}, which); err != nil {
						return err
					}
					if !stdio.Quiet {
						n := len(which)
						if n == 0 {
							nodes, _ := devgrid.Nodes(dir)
							n = len(nodes)
						}
						fmt.Fprintf(stdio.Out, "started %d storage node(s)\n", n)
					}
					return nil
				},
			},
			{
				Name:      "down",
				Usage:     "stop the grid's storage nodes (all, or the given indexes)",
				ArgsUsage: "DIR [INDEX...]",
				Action: func(cCtx *cli.Context) error {
					dir, which, err := gridArgs(cCtx)
					if err != nil {
						return err
					}
					n, err := devgrid.Stop(dir, which)
					if err != nil {
						return err
					}
					if !stdio.Quiet {
						fmt.Fprintf(stdio.Out, "stopped %d storage node(s)\n", n)
					}
					return nil
				},
			},
			newGridStatusCommand(f),
			{
				Name:      "serve",
				Usage:     "serve one storage node in the foreground (what 'up' starts)",
				ArgsUsage: "NODEDIR",
				Hidden:    true,
				Action: func(cCtx *cli.Context) error {
					if err := command.ExactArgs(cCtx, 1, "NODEDIR"); err != nil {
						return err
					}
					logger := slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
					return node.RunNode(cCtx.Context, cCtx.Args().First(), logger)
				},
			},
		},
	}
}

// checkGridUp refuses, before anything is made or started, what 'grid up'
// cannot do: a directory that holds other things than a grid, encoding
// parameters no client can use, no servers, or a reserved space that is
// not a size. Each is a usage error (exit 2).
func checkGridUp(dir string, o devgrid.Options) error {
	if nodes, _ := devgrid.Nodes(dir); len(nodes) == 0 {
		ents, err := os.ReadDir(dir)
		switch {
		case err == nil && len(ents) > 0:
			return command.WithHint(command.Usagef("%s is not empty and holds no grid", dir), "give a new or empty directory, or one 'lafs grid up' made")
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return command.Usagef("%s: %v", dir, err)
		}
	}
	switch {
	case o.Servers < 1 || o.Servers > 99:
		return command.Usagef("--servers %d: a dev grid has 1 to 99 servers", o.Servers)
	case o.Needed < 1 || o.Needed > 256:
		return command.Usagef("--needed %d: want 1 to 256", o.Needed)
	case o.Total < 1 || o.Total > 256:
		return command.Usagef("--total %d: want 1 to 256", o.Total)
	case o.Needed > o.Total:
		return command.Usagef("--needed %d is more than --total %d", o.Needed, o.Total)
	case o.Happy < 1 || o.Happy > o.Total:
		return command.Usagef("--happy %d: want 1 to --total (%d)", o.Happy, o.Total)
	}
	if o.ReservedSpace != "" {
		if _, err := node.ParseSize(o.ReservedSpace); err != nil {
			return command.Usagef("--reserved-space %q: not a size (e.g. 10M, 1G, 0)", o.ReservedSpace)
		}
	}
	return nil
}

func gridArgs(cCtx *cli.Context) (string, []int, error) {
	if cCtx.NArg() < 1 {
		return "", nil, command.Usagef("%s needs the grid directory", cCtx.Command.HelpName)
	}
	dir, err := filepath.Abs(cCtx.Args().First())
	if err != nil {
		return "", nil, err
	}
	var which []int
	for _, a := range cCtx.Args().Slice()[1:] {
		i, err := strconv.Atoi(a)
		if err != nil {
			return "", nil, command.Usagef("node index %q: want a number", a)
		}
		which = append(which, i)
	}
	return dir, which, nil
}

// encodingFor is a new grid's client encoding for n servers: Tahoe's
// 3-of-10, happy 7, from 10 servers up; below, N = n, k = 3n/5 and happy
// n-1 (3-of-5, happy 4 for 5), so every share has its own server.
func encodingFor(n int) (needed, happy, total int) {
	if n >= 10 {
		return 3, 7, 10
	}
	needed = max(1, n*3/5)
	return needed, max(needed, n-1), max(n, 1)
}
