package lafscmd

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

// lsOptions are ls's argument and switches.
type lsOptions struct {
	Path string // "" for the 'tahoe' alias
	JSON bool
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

func newLsCommand(f *command.Factory) *cli.Command {
	var o lsOptions
	var out output
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a directory: a table on a terminal, names when piped",
		ArgsUsage: "[ALIAS:PATH]",
		Flags:     []cli.Flag{jsonFlag(&out, "print the entries as a JSON array")},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("ls takes at most one path")
			}
			o.Path = cCtx.Args().First()
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runLs(cCtx.Context, f, o)
		},
	}
}

func runLs(ctx context.Context, f *command.Factory, o lsOptions) error {
	arg := o.Path
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
	var entries []lsEntry
	if target.IsDirectory() {
		es, err := s.ReadDir(ctx, target)
		if err != nil {
			return err
		}
		for _, e := range es {
			entries = append(entries, describeEntry(e))
		}
	} else {
		_, name := p.Split()
		if name == "" {
			name = arg // a bare file cap: it has no name but itself
		}
		entries = append(entries, describeEntry(dirnode.Entry{Name: name, ROCap: target.String()}))
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name < entries[b].Name })
	switch {
	case o.JSON:
		if entries == nil {
			entries = []lsEntry{}
		}
		return command.WriteJSON(f.IO.Out, entries)
	case !f.IO.OutTTY:
		for _, e := range entries {
			if _, err := fmt.Fprintln(f.IO.Out, e.Name); err != nil {
				return err
			}
		}
		return nil
	}
	table := tablewriter.NewWriter(f.IO.Out)
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
}
