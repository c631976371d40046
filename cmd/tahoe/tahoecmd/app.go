// Package tahoecmd is the tahoe binary's command tree: Tahoe-LAFS's own
// `tahoe` subcommands with the same flags, output, exit codes and node
// directory, one cmd_<name>.go per subcommand. Each command is a
// constructor that declares its flags and fills an options struct, and a
// run function (runLs(ctx, f, opts)) that does the work against a
// command.Factory, so tests call it directly. cmd/tahoe is its main.
package tahoecmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/version"
	"github.com/urfave/cli/v2"
)

// Main runs tahoe on the process's arguments and streams, stopping on
// SIGINT or SIGTERM, and returns the exit status.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer command.IgnoreSIGPIPE()()
	return Run(ctx, os.Args, command.System())
}

// Run runs tahoe with args (args[0] is the program name) against stdio
// and returns the exit status.
func Run(ctx context.Context, args []string, stdio *command.IO) int {
	f := NewFactory(stdio)
	return command.Run(ctx, NewApp(f), args, f)
}

// NewFactory returns tahoe's factory: no preferences, no node directory
// created behind the user's back.
func NewFactory(stdio *command.IO) *command.Factory {
	return &command.Factory{
		IO:         stdio,
		Prog:       "tahoe",
		TahoeUsage: true,
		NodeHint:   "create a node with 'tahoe create-client --local-grid=10 %s' or give -d NODEDIR",
		NoGridHint: "add servers to private/servers.yaml, or make an embedded grid with 'tahoe create-client --local-grid=10 DIR'",
	}
}

// NewApp builds tahoe's command tree over f; the global flags fill f.
func NewApp(f *command.Factory) *cli.App {
	stdio := f.IO
	app := &cli.App{
		Name:                 "tahoe",
		Usage:                "Tahoe-LAFS compatible plumbing, implemented by lafs",
		UsageText:            "tahoe [global-options] <command> [command-options]",
		Version:              version.Version,
		HideVersion:          true,
		EnableBashCompletion: true,
		Description: "Each command behaves as Tahoe-LAFS's own: same flags, same output, same exit codes " +
			"(0 success, 1 operational failure or usage error; a usage error prints the usage and the message on stdout).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"}, DefaultText: "~/.tahoe",
				Usage: "the Tahoe node directory (tahoe.cfg, private/, node.url)", Destination: &f.NodeDirFlag},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "operate silently", Destination: &stdio.Quiet},
			&cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "display the version and exit"},
			&cli.BoolFlag{Name: "version-and-path", Usage: "display the version and the binary's path, and exit"},
		},
		Before: func(cCtx *cli.Context) error {
			switch {
			case cCtx.Bool("version-and-path"):
				info := version.Read()
				_, err := stdio.Out.Write([]byte(version.Line() + " [" + info.Path + "]\n"))
				if err != nil {
					return err
				}
				return command.ErrDone
			case cCtx.Bool("version"):
				if _, err := stdio.Out.Write([]byte(version.Line() + "\n")); err != nil {
					return err
				}
				return command.ErrDone
			}
			return nil
		},
		Commands: []*cli.Command{
			newCreateClientCommand(f),
			newCreateNodeCommand(f),
			newRunCommand(f),
			newPutCommand(f),
			newGetCommand(f),
			newCreateAliasCommand(f),
			newAddAliasCommand(f),
			newListAliasesCommand(f),
			newMkdirCommand(f),
			newLsCommand(f),
			newCpCommand(f),
			newLnCommand(f),
			newMvCommand(f),
			newUnlinkCommand(f, "unlink"),
			newUnlinkCommand(f, "rm"),
			newWebopenCommand(f),
			newBackupCommand(f),
			newCheckCommand(f),
			newDeepCheckCommand(f),
			newManifestCommand(f),
			newStatsCommand(f),
			newStatusCommand(f),
			newDebugCommand(stdio),
			newAdminCommand(f),
			command.NewCompletionCommand(stdio, "tahoe"),
			command.NewManCommand(stdio),
		},
	}
	for _, name := range notImplemented {
		app.Commands = append(app.Commands, command.NotImplemented(name))
	}
	return app
}

// notImplemented are Tahoe-LAFS's subcommands (runner.py's, at
// tahoe-lafs HEAD) that this tahoe does not implement.
var notImplemented = [...]string{
	"create-introducer", "invite",
}
