// Command tahoe is the plumbing binary of lafs: Tahoe-LAFS's own `tahoe`
// subcommands with the same flags, output, exit codes and node directory, so
// scripts written for Tahoe-LAFS keep working.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/version"
	"github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Run(ctx, newApp(command.System()), os.Args, command.System())
	stop()
	os.Exit(code)
}

// defaultNodeDir is Tahoe's default node directory, ~/.tahoe.
func defaultNodeDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".tahoe"
	}
	return filepath.Join(home, ".tahoe")
}

// globalOptions are Tahoe's global flags.
type globalOptions struct {
	NodeDir string
	Quiet   bool
}

func readGlobals(cCtx *cli.Context) globalOptions {
	dir := cCtx.String("node-directory") // urfave/cli looks through parent commands
	if dir == "" {
		dir = defaultNodeDir()
	}
	return globalOptions{NodeDir: dir, Quiet: cCtx.Bool("quiet")}
}

func newApp(stdio *command.IO) *cli.App {
	app := &cli.App{
		Name:                 "tahoe",
		Usage:                "Tahoe-LAFS compatible plumbing, implemented by lafs",
		UsageText:            "tahoe [global-options] <command> [command-options]",
		Version:              version.Version,
		HideVersion:          true,
		EnableBashCompletion: true,
		Description: "Each command behaves as Tahoe-LAFS's own: same flags, same output, same exit codes " +
			"(0 success, 1 operational failure, 2 usage error).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"}, DefaultText: "~/.tahoe",
				Usage: "the Tahoe node directory (tahoe.cfg, private/, node.url)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "operate silently"},
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
			newCreateClientCommand(stdio),
			newCreateNodeCommand(stdio),
			newRunCommand(stdio),
			newPutCommand(stdio),
			newGetCommand(stdio),
			newCreateAliasCommand(stdio),
			newAddAliasCommand(stdio),
			newListAliasesCommand(stdio),
			newMkdirCommand(stdio),
			newLsCommand(stdio),
			newCpCommand(stdio),
			newLnCommand(stdio),
			newMvCommand(stdio),
			newUnlinkCommand(stdio, "unlink"),
			newUnlinkCommand(stdio, "rm"),
			newDebugCommand(stdio),
			newAdminCommand(stdio),
			command.NewCompletionCommand(stdio),
			command.NewManCommand(stdio),
		},
	}
	return app
}
