package tahoecmd

import (
	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

func newDebugCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:  "debug",
		Usage: "debug tools: inspect caps, compute caps and placements without a grid",
		Subcommands: []*cli.Command{
			newDumpCapCommand(stdio),
			newDebugPlacementCommand(stdio),
			newDebugChkCapCommand(stdio),
		},
	}
}
