package tahoecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// lsOptions are ls's argument and switches.
type lsOptions struct {
	Path                             string // "" for the 'tahoe' alias
	Long, URI, ReadOnlyURI, Classify bool
	JSON                             bool
}

func newLsCommand(f *command.Factory) *cli.Command {
	var o lsOptions
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a directory",
		ArgsUsage: "[PATH]",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "type, size and link time", Destination: &o.Long},
			&cli.BoolFlag{Name: "uri", Usage: "show each child's cap", Destination: &o.URI},
			&cli.BoolFlag{Name: "readonly-uri", Usage: "show each child's read-only cap", Destination: &o.ReadOnlyURI},
			&cli.BoolFlag{Name: "classify", Aliases: []string{"F"}, Usage: "append / to directories, * to mutable files", Destination: &o.Classify},
			&cli.BoolFlag{Name: "json", Usage: "print the web API's JSON for the directory", Destination: &o.JSON},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("ls takes at most one PATH")
			}
			o.Path = cCtx.Args().First()
			return runLs(cCtx.Context, f, o)
		},
	}
}

func runLs(ctx context.Context, f *command.Factory, o lsOptions) error {
	arg := o.Path
	if arg == "" {
		arg = nodedir.DefaultAlias + ":"
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
	if errors.Is(err, filestore.ErrNotFound) {
		return command.Exit(2, errors.New("No such file or directory")) // Tahoe's ls exits 2 here
	}
	if err != nil {
		return err
	}
	var entries []dirnode.Entry
	if target.IsDirectory() {
		if entries, err = s.ReadDir(ctx, target); err != nil {
			return err
		}
		if o.JSON {
			return command.WriteJSONCompact(f.IO.Out, dirJSON(target, entries))
		}
	} else {
		// A file lists as its own one-line listing, as Tahoe's ls does.
		_, name := p.Split()
		e := dirnode.Entry{Name: name, ROCap: target.String()}
		if target.IsMutable() && !target.IsReadOnly() {
			e = dirnode.Entry{Name: name, RWCap: target.String()}
			if ro := target.ReadOnly(); ro != nil {
				e.ROCap = ro.String()
			}
		}
		entries = []dirnode.Entry{e}
	}
	lines, unknown := formatLs(entries, o, time.Now())
	for _, l := range lines {
		if _, err := fmt.Fprintln(f.IO.Out, l); err != nil {
			return err
		}
	}
	if unknown {
		fmt.Fprintln(f.IO.Err, "\nThis listing included unknown objects. Using a webapi server that supports\na later version of Tahoe may help.")
	}
	return nil
}

// childType names a cap's kind the way Tahoe's web API does.
func childType(c *caps.Cap) string {
	switch {
	case c.IsUnknown():
		return "unknown"
	case c.IsDirectory():
		return "dirnode"
	}
	return "filenode"
}

// dirJSON is the web API's t=json shape of a directory.
func dirJSON(dir *caps.Cap, entries []dirnode.Entry) []any {
	children := map[string]any{}
	for _, e := range entries {
		c, _ := caps.Parse(e.Cap())
		info := map[string]any{"metadata": e.Metadata, "ro_uri": e.ROCap}
		if e.RWCap != "" {
			info["rw_uri"] = e.RWCap
		}
		if c != nil {
			info["mutable"] = c.IsMutable()
			if v := c.Verifier(); v != nil {
				info["verify_uri"] = v.String()
			}
			if n, ok := c.SizeKnown(); ok {
				info["size"] = n
			}
			children[e.Name] = []any{childType(c), info}
		}
	}
	d := map[string]any{"ro_uri": dir.ReadOnly().String(), "mutable": dir.IsMutable(), "children": children}
	if !dir.IsReadOnly() {
		d["rw_uri"] = dir.String()
	}
	if v := dir.Verifier(); v != nil {
		d["verify_uri"] = v.String()
	}
	return []any{"dirnode", d}
}

// formatLs lays out Tahoe's ls lines: optional type/size/link time, the
// name, optional caps; columns padded to their widest cell, right-aligned
// except cap columns (and a lone column).
func formatLs(entries []dirnode.Entry, o lsOptions, now time.Time) ([]string, bool) {
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name < entries[b].Name })
	var rows [][]string
	unknown := false
	for _, e := range entries {
		c, err := caps.Parse(e.Cap())
		if err != nil {
			c = &caps.Cap{Kind: caps.KindUnknown, Raw: e.Cap()}
		}
		var md struct {
			Tahoe struct {
				LinkCrTime float64 `json:"linkcrtime"`
			} `json:"tahoe"`
			Ctime float64 `json:"ctime"`
		}
		_ = json.Unmarshal(e.Metadata, &md)
		ctime := md.Tahoe.LinkCrTime
		if ctime == 0 {
			ctime = md.Ctime
		}
		ctimeS := "-"
		if ctime != 0 {
			t := time.Unix(int64(ctime), 0).In(now.Location())
			if now.Sub(t) > 6*30*24*time.Hour {
				ctimeS = t.Format("Jan 02  2006")
			} else {
				ctimeS = t.Format("Jan 02 15:04")
			}
		}
		t0, size, classify := "-", "?", ""
		switch childType(c) {
		case "dirnode":
			t0, size, classify = "d", "-", "/"
		case "filenode":
			if n, ok := c.SizeKnown(); ok {
				size = fmt.Sprint(n)
			}
			if e.RWCap != "" {
				classify = "*"
			}
		default:
			unknown = true
			t0, classify = "?", "?"
		}
		perm := t0
		perm += map[bool]string{true: "r", false: "-"}[e.ROCap != ""]
		perm += map[bool]string{true: "w", false: "-"}[e.RWCap != ""]
		perm += map[bool]string{true: "x", false: "-"}[t0 == "d"]
		var row []string
		if o.Long {
			row = append(row, perm, size, ctimeS)
		}
		if !o.Classify {
			classify = ""
		}
		row = append(row, e.Name+classify)
		if o.URI {
			row = append(row, e.Cap())
		}
		if o.ReadOnlyURI {
			ro := e.ROCap
			if ro == "" {
				ro = "-"
			}
			row = append(row, ro)
		}
		rows = append(rows, row)
	}
	var widths []int
	var left []bool
	for _, row := range rows {
		for i, cell := range row {
			for len(widths) <= i {
				widths = append(widths, 0)
				left = append(left, false)
			}
			widths[i] = max(widths[i], len(cell))
			if strings.HasPrefix(cell, "URI") {
				left[i] = true
			}
		}
	}
	if len(left) == 1 {
		left[0] = true
	}
	var lines []string
	for _, row := range rows {
		parts := make([]string, len(row))
		for i, cell := range row {
			if left[i] {
				parts[i] = fmt.Sprintf("%-*s", widths[i], cell)
			} else {
				parts[i] = fmt.Sprintf("%*s", widths[i], cell)
			}
		}
		lines = append(lines, strings.TrimRight(strings.Join(parts, " "), " "))
	}
	return lines, unknown
}
