package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

// path parses a grid path ("alias:dir/file", "URI:DIR2:...:./dir").
func (s *session) path(arg string) (filestore.Path, error) {
	node, err := s.node()
	if err != nil {
		return filestore.Path{}, err
	}
	aliases, err := node.Aliases()
	if err != nil {
		return filestore.Path{}, err
	}
	p, err := filestore.ParsePath(aliases, arg)
	if err != nil {
		return p, command.WithHint(err, "make an alias with 'tahoe create-alias NAME', or give a directory cap")
	}
	return p, nil
}

// isGridPath tells a grid path argument from a local file name: it has a
// colon and names no local file.
func isGridPath(arg string) bool {
	if !strings.Contains(arg, ":") {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

type lsEntry struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"` // file, directory, unknown
	Size     *uint64         `json:"size"`
	Mutable  bool            `json:"mutable"`
	Cap      string          `json:"cap"`
	ReadCap  string          `json:"readcap"`
	LinkTime *time.Time      `json:"link_time"`
	Metadata json.RawMessage `json:"metadata"`
}

func describeEntry(e dirnode.Entry) lsEntry {
	out := lsEntry{Name: e.Name, Cap: e.Cap(), ReadCap: e.ROCap, Metadata: e.Metadata, Type: "unknown"}
	if c, err := caps.Parse(e.Cap()); err == nil && !c.IsUnknown() {
		out.Type = "file"
		if c.IsDirectory() {
			out.Type = "directory"
		}
		out.Mutable = c.IsMutable()
		if n, ok := c.SizeKnown(); ok {
			out.Size = &n
		}
	}
	var md struct {
		Tahoe struct {
			LinkMoTime float64 `json:"linkmotime"`
		} `json:"tahoe"`
	}
	if json.Unmarshal(e.Metadata, &md) == nil && md.Tahoe.LinkMoTime > 0 {
		t := time.Unix(0, int64(md.Tahoe.LinkMoTime*1e9)).UTC()
		out.LinkTime = &t
	}
	return out
}

func newLsCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a directory: a table on a terminal, names when piped",
		ArgsUsage: "[ALIAS:PATH]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the entries as a JSON array"}},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("ls takes at most one path")
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			arg := cCtx.Args().First()
			if arg == "" {
				arg = "tahoe:"
			}
			p, err := s.path(arg)
			if err != nil {
				return err
			}
			c, err := s.openClient()
			if err != nil {
				return err
			}
			defer c.Close()
			target, err := filestore.Lookup(cCtx.Context, c, p)
			if err != nil {
				return err
			}
			var entries []lsEntry
			if target.IsDirectory() {
				es, err := c.ReadDir(cCtx.Context, target)
				if err != nil {
					return err
				}
				for _, e := range es {
					entries = append(entries, describeEntry(e))
				}
			} else {
				_, name := p.Split()
				entries = append(entries, describeEntry(dirnode.Entry{Name: name, ROCap: target.String()}))
			}
			sort.Slice(entries, func(a, b int) bool { return entries[a].Name < entries[b].Name })
			switch {
			case s.jsonOutput(cCtx):
				if entries == nil {
					entries = []lsEntry{}
				}
				return command.WriteJSON(s.io.Out, entries)
			case !s.io.OutTTY:
				for _, e := range entries {
					fmt.Fprintln(s.io.Out, e.Name)
				}
				return nil
			}
			table := tablewriter.NewWriter(s.io.Out)
			table.Header([]string{"Name", "Type", "Size", "Linked", "Cap"})
			for _, e := range entries {
				size, when := "-", "-"
				if e.Size != nil {
					size = fmt.Sprint(*e.Size)
				}
				if e.LinkTime != nil {
					when = e.LinkTime.Local().Format("2006-01-02 15:04")
				}
				name := e.Name
				if e.Type == "directory" {
					name += "/"
				}
				if err := table.Append([]string{name, e.Type, size, when, shorten(e.Cap, 40)}); err != nil {
					return err
				}
			}
			return table.Render()
		},
	}
}

func newMkdirCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "mkdir",
		Usage:     "create a directory at a path (-p: and its parents)",
		ArgsUsage: "ALIAS:PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "parents", Aliases: []string{"p"}, Usage: "create missing parents; an existing directory is fine"},
			&cli.BoolFlag{Name: "mdmf", Usage: "use the MDMF format (default SDMF)"},
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS:PATH"); err != nil {
				return err
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			p, err := s.path(cCtx.Args().First())
			if err != nil {
				return err
			}
			c, err := s.openClient()
			if err != nil {
				return err
			}
			defer c.Close()
			var dir *caps.Cap
			if cCtx.Bool("parents") {
				dir, err = filestore.MkdirAll(cCtx.Context, c, p, mdmfFormat(cCtx.Bool("mdmf")))
			} else {
				var parent *caps.Cap
				var name string
				if parent, name, err = filestore.Parent(cCtx.Context, c, p); err == nil {
					if dir, err = c.Mkdir(cCtx.Context, filestore.MkdirOptions{Format: mdmfFormat(cCtx.Bool("mdmf"))}); err == nil {
						err = c.Link(cCtx.Context, parent, name, dir, false)
					}
				}
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(s.io.Out, dir.String())
			return err
		},
	}
}

func newMvCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "mv",
		Usage:     "move a file or directory to another name or directory",
		ArgsUsage: "FROM TO",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace TO if it exists"}},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
				return err
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			from, err := s.path(cCtx.Args().Get(0))
			if err != nil {
				return err
			}
			to, err := s.path(cCtx.Args().Get(1))
			if err != nil {
				return err
			}
			c, err := s.openClient()
			if err != nil {
				return err
			}
			defer c.Close()
			child, err := filestore.Lookup(cCtx.Context, c, from)
			if err != nil {
				return err
			}
			if existing, err := filestore.Lookup(cCtx.Context, c, to); err == nil && existing.IsDirectory() {
				_, name := from.Split()
				to = to.Join(name)
			}
			toDir, toName, err := filestore.Parent(cCtx.Context, c, to)
			if err != nil {
				return err
			}
			if err := c.Link(cCtx.Context, toDir, toName, child, cCtx.Bool("force")); err != nil {
				if errors.Is(err, filestore.ErrExists) {
					return command.WithHint(err, "use --force to replace it")
				}
				return err
			}
			fromDir, fromName, err := filestore.Parent(cCtx.Context, c, from)
			if err != nil {
				return err
			}
			if fromDir.String() == toDir.String() && fromName == toName {
				return nil
			}
			return c.Unlink(cCtx.Context, fromDir, fromName)
		},
	}
}

func newRmCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove names from their directories (-r for directories)",
		ArgsUsage: "ALIAS:PATH...",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "allow removing directories"}},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() == 0 {
				return command.Usagef("rm needs at least one path")
			}
			s, err := newSession(cCtx, stdio)
			if err != nil {
				return err
			}
			c, err := s.openClient()
			if err != nil {
				return err
			}
			defer c.Close()
			for _, arg := range cCtx.Args().Slice() {
				p, err := s.path(arg)
				if err != nil {
					return err
				}
				target, err := filestore.Lookup(cCtx.Context, c, p)
				if err != nil {
					return err
				}
				if target.IsDirectory() && !cCtx.Bool("recursive") {
					return command.WithHint(fmt.Errorf("%s is a directory", arg), "use rm -r to remove a directory")
				}
				dir, name, err := filestore.Parent(cCtx.Context, c, p)
				if err != nil {
					return err
				}
				if err := c.Unlink(cCtx.Context, dir, name); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// mdmfFormat is the format of new directories: MDMF with --mdmf.
func mdmfFormat(mdmf bool) filestore.Format {
	if mdmf {
		return filestore.FormatMDMF
	}
	return filestore.FormatSDMF
}
