package main

import (
	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/copier"
	"github.com/urfave/cli/v2"
)

func newCpCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files and trees between the local disk and the grid (one progress bar)",
		ArgsUsage: "FROM... TO",
		Description: "ALIAS:path (known alias) and URI:... arguments are in the grid, others local.\n" +
			"Existing targets are kept unless --force. Exit status: 0 success, 1 failure, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy directories and their contents"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace existing files and names"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 2 {
				return command.Usagef("cp needs FROM and TO")
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			node, err := s.node()
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
			var srcs []copier.Location
			var total int64
			for _, a := range args[:len(args)-1] {
				src, err := copier.ParseLocation(aliases, a)
				if err != nil {
					return err
				}
				if src.Grid == nil {
					total += copier.TreeSize(src.Local)
				}
				srcs = append(srcs, src)
			}
			c, err := s.openClient()
			if err != nil {
				return err
			}
			defer c.Close()
			bar := s.bar(cCtx, "cp", total)
			k := &copier.Copier{Client: c, Overwrite: cCtx.Bool("force"), Progress: bar.Add}
			for _, src := range srcs {
				if err := k.Copy(cCtx.Context, src, dst, cCtx.Bool("recursive")); err != nil {
					bar.Abort()
					return err
				}
			}
			bar.Finish()
			return nil
		},
	}
}
