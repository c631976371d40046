// Command lafs is the porcelain binary of lafs: commands for people working
// with a Tahoe-LAFS grid, with tables, progress on a terminal, --json for
// scripts and clear one-line errors.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/version"
	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stdio := command.System()
	code := command.Run(ctx, newApp(stdio), os.Args, stdio)
	stop()
	os.Exit(code)
}

func newApp(stdio *command.IO) *cli.App {
	return &cli.App{
		Name:                 "lafs",
		Usage:                "store and share files on a Tahoe-LAFS grid",
		UsageText:            "lafs [global-options] <command> [command-options] [arguments...]",
		Version:              version.Version,
		EnableBashCompletion: true,
		Description: "lafs is a Tahoe-LAFS client: least-authority, encrypted, erasure-coded storage.\n" +
			"Exit status: 0 success, 1 operational failure, 2 usage error.",
		Flags: globalFlags(),
		Commands: []*cli.Command{
			newAttenuateCommand(stdio),
			newPutCommand(stdio),
			newGetCommand(stdio),
			newLsCommand(stdio),
			newMkdirCommand(stdio),
			newCpCommand(stdio),
			newMvCommand(stdio),
			newRmCommand(stdio),
			newStatusCommand(stdio),
			newVersionCommand(stdio),
			newGridCommand(stdio),
			command.NewCompletionCommand(stdio),
			command.NewManCommand(stdio),
		},
	}
}
