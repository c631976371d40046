// Package lafscmd is the lafs binary's command tree: commands for people
// working with a Tahoe-LAFS grid, with tables, progress on a terminal,
// --json for scripts and clear one-line errors, one cmd_<name>.go per
// command. Each command is a constructor that declares its flags and fills
// an options struct, and a run function (runLs(ctx, f, opts)) that does the
// work against a command.Factory, so tests call it directly. cmd/lafs is
// its main.
package lafscmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/prefs"
	"github.com/lafs/lafs/internal/version"
	"github.com/urfave/cli/v2"
)

// Main runs lafs on the process's arguments and streams, stopping on
// SIGINT or SIGTERM, and returns the exit status.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer command.IgnoreSIGPIPE()()
	return Run(ctx, os.Args, command.System(), os.Getenv)
}

// Run runs lafs with args (args[0] is the program name) against stdio,
// reading preferences through getenv, and returns the exit status.
func Run(ctx context.Context, args []string, stdio *command.IO, getenv func(string) string) int {
	f := NewFactory(stdio, getenv)
	return command.Run(ctx, NewApp(f), args, f)
}

// NewFactory returns lafs's factory: preferences from the config file and
// LAFS_* variables, and a node directory with an embedded local grid
// created on first use.
func NewFactory(stdio *command.IO, getenv func(string) string) *command.Factory {
	return &command.Factory{
		IO:         stdio,
		Prog:       "lafs",
		LoadPrefs:  func() (prefs.Prefs, error) { return prefs.Load(getenv) },
		CreateNode: func(dir string) error { return createNode(stdio, dir) },
		NoGridHint: "add storage servers to private/servers.yaml, or start a dev grid with 'lafs grid up DIR'",
	}
}

// NewApp builds lafs's command tree over f; the global flags fill f.
func NewApp(f *command.Factory) *cli.App {
	return &cli.App{
		Name:                 "lafs",
		Usage:                "store and share files on a Tahoe-LAFS grid",
		UsageText:            "lafs [global-options] <command> [command-options] [arguments...]",
		Version:              version.Version,
		EnableBashCompletion: true,
		Description: "lafs is a Tahoe-LAFS client: least-authority, encrypted, erasure-coded storage.\n" +
			"Exit status: 0 success, 1 operational failure, 2 usage error.",
		Flags: globalFlags(f),
		Commands: []*cli.Command{
			newAttenuateCommand(f),
			newPutCommand(f),
			newGetCommand(f),
			newLsCommand(f),
			newMkdirCommand(f),
			newCpCommand(f),
			newMvCommand(f),
			newRmCommand(f),
			newStatusCommand(f),
			newCheckCommand(f),
			newVersionCommand(f),
			newGridCommand(f.IO),
			command.NewCompletionCommand(f.IO, "lafs"),
			command.NewManCommand(f.IO),
		},
	}
}
