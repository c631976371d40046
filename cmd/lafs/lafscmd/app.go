// Package lafscmd is the lafs binary's command tree: commands for people
// working with a Tahoe-LAFS grid, with tables, progress on a terminal,
// --json for scripts and clear one-line errors, one cmd_<name>.go per
// command. Each command is a constructor that declares its flags and fills
// an options struct, and a run function (runLs(ctx, f, opts)) that does the
// work against a command.Factory, so tests call it directly. cmd/lafs is
// its main. A command name that is not built in runs lafs-NAME from PATH
// (plugin.go).
package lafscmd

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
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
	if path := os.Getenv("LAFS_CPUPROFILE"); path != "" {
		// For measuring, not for people: a CPU profile of this run (%p:
		// the process id, so each node of a grid writes its own).
		if f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))); err == nil {
			defer f.Close()
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile() // before the Close above
			}
		}
	}
	defer command.IgnoreSIGPIPE()()
	return Run(ctx, os.Args, command.System(), os.Getenv)
}

// Run runs lafs with args (args[0] is the program name) against stdio,
// reading preferences through getenv, and returns the exit status.
func Run(ctx context.Context, args []string, stdio *command.IO, getenv func(string) string) int {
	f := NewFactory(stdio, getenv)
	app := NewApp(f)
	if code, ok := runPlugin(ctx, app, f, args, getenv); ok {
		return code
	}
	f.JSONErrors = wantsJSON(f, args)
	return command.Run(ctx, app, args, f)
}

// wantsJSON reports whether this run's output (so its errors) is JSON:
// --json anywhere before "--", or output = "json" in the preferences.
func wantsJSON(f *command.Factory, args []string) bool {
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	if slices.Contains(args[:end], "--json") {
		return true
	}
	p, err := f.Prefs()
	return err == nil && p.Output == "json"
}

// NewFactory returns lafs's factory: preferences from the config file and
// LAFS_* variables, flags anywhere, JSON errors, short unhappiness errors
// and a default node directory with an embedded local grid created on
// first use.
func NewFactory(stdio *command.IO, getenv func(string) string) *command.Factory {
	f := &command.Factory{
		IO:           stdio,
		Prog:         "lafs",
		LoadPrefs:    func() (prefs.Prefs, error) { return prefs.Load(getenv) },
		CreateNode:   func(dir string) error { return createNode(stdio, dir, defaultLocalGridServers) },
		NoGridHint:   "add storage servers to private/servers.yaml, or start a dev grid with 'lafs grid up DIR'",
		PermuteFlags: true,
		Interrupt:    true,
		ShortErrors:  shortError,
	}
	f.Completer = func(cur string) []string { return completeGrid(context.Background(), f, cur) }
	return f
}

// NewApp builds lafs's command tree over f; the global flags fill f.
func NewApp(f *command.Factory) *cli.App {
	return &cli.App{
		Name:      "lafs",
		Usage:     "store and share files on a Tahoe-LAFS grid",
		UsageText: "lafs [global-options] <command> [command-options] [arguments...]",
		Version:   version.Version,
		// lafs's own --version (no -v: that is --verbose).
		HideVersion: true,
		Description: "lafs is a Tahoe-LAFS client: least-authority, encrypted, erasure-coded storage.\n" +
			"Flags may come before or after arguments. A command NAME that is not built in runs\n" +
			"lafs-NAME from PATH, with LAFS_NODE_DIRECTORY and LAFS_OUTPUT set.\n" +
			"Exit status: 0 success, 1 operational failure, 2 usage error, 130 interrupted.",
		Flags: globalFlags(f),
		Commands: []*cli.Command{
			newInitCommand(f),
			newAttenuateCommand(f),
			newShareCommand(f),
			newPutCommand(f),
			newGetCommand(f),
			newCatCommand(f),
			newLsCommand(f),
			newMkdirCommand(f),
			newCpCommand(f),
			newBackupCommand(f),
			newMvCommand(f),
			newRmCommand(f),
			newDuCommand(f),
			newAliasCommand(f),
			newStatusCommand(f),
			newCheckCommand(f),
			newVersionCommand(f),
			newGridCommand(f),
			command.NewCompletionCommand(f.IO, "lafs"),
			command.NewManCommand(f.IO),
			newManPagesCommand(),
		},
		ExtraInfo: func() map[string]string {
			return map[string]string{"plugins": strings.Join(installedPlugins(os.Getenv("PATH")), "\n   ")}
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + "{{with index ExtraInfo \"plugins\"}}\nPLUGINS (lafs-NAME on PATH):\n   {{.}}\n{{end}}",
	}
}
