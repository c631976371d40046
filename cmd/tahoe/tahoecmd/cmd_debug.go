package tahoecmd

import (
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

func newDebugCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:  "debug",
		Usage: "debug tools: inspect caps, compute caps and placements without a grid",
		Subcommands: append([]*cli.Command{
			newDumpCapCommand(stdio),
			newDumpShareCommand(stdio),
			newFindSharesCommand(stdio),
			newCatalogSharesCommand(stdio),
			newCorruptShareCommand(stdio),
			command.Extension(newDebugPlacementCommand(stdio)),
			command.Extension(newDebugChkCapCommand(stdio)),
		}, debugNotImplemented()...),
	}
}

// debugNotImplemented are Tahoe-LAFS's debug tools this tahoe does not
// implement.
func debugNotImplemented() []*cli.Command {
	var out []*cli.Command
	for _, name := range []string{"flogtool", "repl", "trial"} {
		out = append(out, command.NotImplemented(name))
	}
	return out
}
