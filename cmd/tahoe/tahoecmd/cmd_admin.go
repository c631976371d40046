package tahoecmd

import (
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

func newAdminCommand(f *command.Factory) *cli.Command {
	stdio := f.IO
	return &cli.Command{
		Name:  "admin",
		Usage: "node administration",
		Subcommands: append(adminKeyCommands(f), []*cli.Command{
			{
				Name:      "create-container",
				Usage:     "create the S3 bucket a storage node with [storage] backend = cloud.s3 keeps its shares in",
				ArgsUsage: "[NODEDIR]",
				Description: "Reads NODEDIR's tahoe.cfg ([storage] s3.url, s3.region, s3.bucket, s3.access_key_id) and\n" +
					"private/s3secret, and creates the bucket. A bucket that already exists and is yours is fine.",
				Action: func(cCtx *cli.Context) error {
					dir, err := nodeDirArg(cCtx, f)
					if err != nil {
						return err
					}
					where, err := node.CreateContainer(cCtx.Context, dir)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(stdio.Out, "The container %s is ready.\n", where)
					return err
				},
			},
		}...),
	}
}
