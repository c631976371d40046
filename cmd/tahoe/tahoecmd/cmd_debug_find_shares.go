package tahoecmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/urfave/cli/v2"
)

func newFindSharesCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "find-shares",
		Usage:     "locate sharefiles in node dirs",
		ArgsUsage: "STORAGE_INDEX NODEDIRS..",
		Description: "Prints the name of every share file of STORAGE_INDEX under each NODEDIR's\n" +
			"storage/shares/<prefix>/<storage index>/, one per line, as Tahoe's find-shares does.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 2 {
				return command.Usagef("Wrong number of arguments.")
			}
			return runFindShares(stdio.Out, cCtx.Args().First(), cCtx.Args().Tail())
		},
	}
}

func runFindShares(w io.Writer, si string, nodedirs []string) error {
	if _, err := caps.Base32DecodeLen(si, 16); err != nil {
		return fmt.Errorf("%q is not a storage index: %w", si, err)
	}
	for _, nd := range nodedirs {
		abs, err := filepath.Abs(nd)
		if err != nil {
			return err
		}
		d := filepath.Join(abs, "storage", "shares", si[:2], si)
		ents, err := os.ReadDir(d)
		if err != nil {
			continue // no shares of it on this node
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			if _, err := fmt.Fprintln(w, filepath.Join(d, n)); err != nil {
				return err
			}
		}
	}
	return nil
}
