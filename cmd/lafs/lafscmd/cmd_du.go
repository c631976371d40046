package lafscmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

func newDuCommand(f *command.Factory) *cli.Command {
	var out output
	var bytes bool
	return &cli.Command{
		Name:      "du",
		Usage:     "the total size of the files below a grid path",
		ArgsUsage: "[ALIAS:PATH]",
		Description: "Walks the directory tree (each directory once) and adds up its files' sizes as their caps\n" +
			"state them: what a download of the tree would fetch, not the space its shares take.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "bytes", Usage: "the size in bytes", Destination: &bytes},
			jsonFlag(&out, "print {path, size, files, directories}"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("lafs du takes at most one ALIAS:PATH, got %d argument(s)", cCtx.NArg())
			}
			j, err := asJSON(f, out)
			if err != nil {
				return err
			}
			return runDu(cCtx.Context, f, cCtx.Args().First(), j, bytes)
		},
	}
}

type duJSON struct {
	Path        string `json:"path"`
	Size        uint64 `json:"size"`
	Files       int    `json:"files"`
	Directories int    `json:"directories"`
}

func runDu(ctx context.Context, f *command.Factory, arg string, asJSON, exact bool) error {
	if arg == "" {
		arg = "tahoe:"
	}
	p, err := gridPath(f, arg)
	if err != nil {
		return err
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	target, err := filestore.Lookup(ctx, s, p)
	if err != nil {
		return err
	}
	r := duJSON{Path: arg}
	if target.IsDirectory() {
		entries, err := listDir(ctx, s, target, "", true, false, map[string]bool{})
		if err != nil {
			return err
		}
		for _, e := range entries {
			switch {
			case e.Type == "directory":
				r.Directories++
			case e.Size != nil:
				r.Files++
				r.Size += *e.Size
			default:
				r.Files++
			}
		}
	} else {
		r.Files = 1
		r.Size, _ = target.SizeKnown()
	}
	if asJSON {
		return command.WriteJSONCompact(f.IO.Out, r)
	}
	size := progress.Bytes(int64(min(r.Size, 1<<62)))
	if exact || !f.IO.OutTTY {
		size = strconv.FormatUint(r.Size, 10)
	}
	_, err = fmt.Fprintf(f.IO.Out, "%s\t%s\t(%d files, %d directories)\n", size, safeName(arg), r.Files, r.Directories)
	return err
}
