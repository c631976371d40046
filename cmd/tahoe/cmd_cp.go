package main

import (
	"fmt"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/copier"
	"github.com/urfave/cli/v2"
)

func newCpCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files and directories between the local disk and the grid",
		ArgsUsage: "FROM... TO",
		Description: "Arguments of the form ALIAS:path (with a known alias) or URI:... are in the grid; others are\n" +
			"local. Copies within the grid link the same caps.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy directories and their contents"},
			&cli.BoolFlag{Name: "caps-only", Usage: "write caps instead of file contents into local files"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 2 {
				return command.Usagef("cp needs FROM and TO")
			}
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			aliases, err := node.Aliases()
			if err != nil {
				return err
			}
			args := cCtx.Args().Slice()
			dst, err := copier.ParseLocation(aliases, args[len(args)-1])
			if err != nil {
				return err
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			// Tahoe's cp replaces existing targets.
			k := &copier.Copier{Client: c, Overwrite: true, CapsOnly: cCtx.Bool("caps-only")}
			for _, a := range args[:len(args)-1] {
				src, err := copier.ParseLocation(aliases, a)
				if err != nil {
					return err
				}
				if err := k.Copy(cCtx.Context, src, dst, cCtx.Bool("recursive")); err != nil {
					return err
				}
			}
			if !readGlobals(cCtx).Quiet {
				fmt.Fprintln(stdio.Out, "Success: files copied")
			}
			return nil
		},
	}
}
