package lafscmd

import (
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// manSections are what lafs's per-command man pages (man/lafs-NAME.1) say
// beyond the command definitions.
var manSections = command.ManSections{
	Date: "2026-12",
	ExitStatus: "0 on success, 1 on an operational failure (the grid, a file, a cap), 2 on a usage error, " +
		"130 when interrupted (SIGINT or SIGTERM). With --json an error is also a JSON object on stderr.",
	Environment: [][2]string{
		{"LAFS_NODE_DIRECTORY", "the node directory, as -d; it must exist (only the default ~/.tahoe is created on first use)"},
		{"LAFS_OUTPUT", "table or json: the default output (as --json when json)"},
		{"LAFS_PROGRESS", "true or false: progress bars on a terminal"},
		{"XDG_CONFIG_HOME", "where config.toml is looked for (default ~/.config)"},
		{"PATH", "where plugins lafs-NAME are found"},
	},
	Files: [][2]string{
		{"~/.tahoe", "the default node directory: tahoe.cfg, private/aliases, private/servers.yaml, local-grid/"},
		{"~/.config/lafs/config.toml", "preferences: node_directory, progress, output"},
		{"NODEDIR/private/aliases", "aliases (lafs alias, tahoe create-alias)"},
		{"NODEDIR/private/backupdb.sqlite", "what lafs backup and tahoe backup have uploaded (so a re-run skips unchanged files)"},
	},
	Examples: map[string][]string{
		"init":        {"lafs init                      # ~/.tahoe with a local test grid", "lafs init --local-grid 5 /tmp/node"},
		"put":         {"lafs put photo.jpg             # prints the cap", "lafs put a.txt b.txt home:docs/  # link into a directory", "lafs put --force a.txt home:a.txt  # replace", "lafs put --json *.txt           # JSON Lines"},
		"get":         {"lafs get URI:CHK:... copy.jpg", "lafs get home:photos/x.jpg .    # saves ./x.jpg"},
		"cat":         {"lafs cat home:notes.txt", "lafs cat URI:CHK:... | less"},
		"ls":          {"lafs ls home:", "lafs ls -l home:photos", "lafs ls -R --json home: | jq .path"},
		"mkdir":       {"lafs mkdir -p home:photos/2026"},
		"cp":          {"lafs cp -r ~/Pictures home:photos", "lafs cp home:a.txt -           # to stdout"},
		"mv":          {"lafs mv home:a.txt home:archive/"},
		"backup":      {"lafs backup ~/Documents home:backups   # home:backups/Latest is the newest", "lafs backup --exclude-vcs --exclude '*.tmp' ~/src home:src", "lafs backup --json ~/Documents home:backups | jq .files_uploaded"},
		"rm":          {"lafs rm home:a.txt", "lafs rm home:old -r"},
		"share":       {"lafs share home:photos         # a read cap to give away"},
		"attenuate":   {"lafs attenuate URI:SSK:...", "lafs attenuate --to verify URI:DIR2:..."},
		"alias":       {"lafs alias add home", "lafs alias ls", "lafs alias rm home"},
		"alias add":   {"lafs alias add home            # a new directory", "lafs alias add shared URI:DIR2-RO:..."},
		"alias ls":    {"lafs alias ls", "lafs alias ls --json"},
		"alias rm":    {"lafs alias rm home"},
		"status":      {"lafs status", "lafs status --json | jq .reachable"},
		"version":     {"lafs version", "lafs -v version   # with the dependencies"},
		"grid":        {"lafs grid up --servers 10 /tmp/grid", "lafs grid status /tmp/grid", "lafs grid down /tmp/grid 3 4"},
		"grid status": {"lafs grid status /tmp/grid", "lafs grid status --json /tmp/grid | jq .shares"},
		"completion":  {"source <(lafs completion bash)", "lafs completion fish | source"},
	},
}

// manPages renders lafs's per-command man pages.
func manPages(app *cli.App) map[string]string { return command.ManPages(app, manSections) }

// newManPagesCommand is the hidden 'generate-man-pages DIR' that 'make
// man' runs: it writes man/lafs-NAME.1 for every command.
func newManPagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate-man-pages",
		Usage:     "write one man page per command into DIR",
		ArgsUsage: "DIR",
		Hidden:    true,
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "DIR"); err != nil {
				return err
			}
			return command.WriteManPages(cCtx.Args().First(), manPages(cCtx.App))
		},
	}
}
