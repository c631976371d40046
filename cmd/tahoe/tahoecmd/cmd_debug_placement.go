package tahoecmd

import (
	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/happiness"
	"github.com/urfave/cli/v2"
)

func newDebugPlacementCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:  "placement",
		Usage: "compute a servers-of-happiness share placement from JSON on stdin",
		Description: "Reads {\"servers\":[ids in permuted order],\"readonly\":[ids],\"shares\":[ints],\"existing\":{\"id\":[ints]}}\n" +
			"on standard input and prints {\"placement\":{\"share\":\"server\"},\"happiness\":N}.\n" +
			"Exit status: 0 success, 1 malformed input, 2 usage error.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 0 {
				return command.Usagef("placement reads its input on standard input and takes no arguments")
			}
			req, err := happiness.DecodeRequest(stdio.In)
			if err != nil {
				return err
			}
			return command.WriteJSONCompact(stdio.Out, req.Plan())
		},
	}
}
