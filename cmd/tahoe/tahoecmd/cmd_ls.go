package tahoecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	// escapeNames shows control characters in names as GNU ls does on a
	// terminal, instead of writing them raw (set when stdout is one).
	escapeNames bool
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
			return tahoeHTTPError(f, "Error during GET", -1, runLs(cCtx.Context, f, o))
		},
	}
}

func runLs(ctx context.Context, f *command.Factory, o lsOptions) error {
	arg := strings.TrimSuffix(o.Path, "/") // as Tahoe's ls does
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
	notFound := func() error {
		fmt.Fprintln(f.IO.Err, "No such file or directory")
		return command.Reported(2) // Tahoe's ls exits 2 here
	}
	if raw, ok := s.(rawJSONer); ok && o.JSON {
		// A gateway: print the node's own body, as Tahoe's ls does.
		body, err := raw.RawJSON(ctx, p.Root, p.Rel)
		if errors.Is(err, filestore.ErrNotFound) {
			return notFound()
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.IO.Out, string(body))
		return err
	}
	target, err := filestore.Lookup(ctx, s, p)
	if errors.Is(err, filestore.ErrNotFound) {
		return notFound()
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
			_, err := fmt.Fprint(f.IO.Out, pyDumps(dirJSON(target, entries))+"\n\n")
			return err
		}
	} else {
		// A file lists as its own one-line listing, as Tahoe's ls does,
		// with the metadata of its link when reached through a directory.
		e, err := fileEntry(ctx, s, p, target)
		if err != nil {
			return err
		}
		if o.JSON {
			size := int64(-1)
			if n, ok := target.SizeKnown(); ok {
				size = int64(n)
			} else if target.IsMutable() {
				var cw countingWriter
				if err := s.Download(ctx, target, &cw, filestore.DownloadOptions{}); err != nil {
					return err
				}
				size = cw.n
			}
			_, err := fmt.Fprint(f.IO.Out, pyDumps(fileJSON(target, e.Metadata, size))+"\n\n")
			return err
		}
		entries = []dirnode.Entry{e}
	}
	if f.IO.OutTTY {
		o.escapeNames = true
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

// rawJSONer is a store that can hand over a node's own t=json body (the
// gateway store).
type rawJSONer interface {
	RawJSON(ctx context.Context, root *caps.Cap, path string) ([]byte, error)
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// fileEntry is the listing entry of the file target that p names: its
// link in its parent directory (with the link's metadata) when p has a
// parent, else a bare entry with no name, as Tahoe's ls shows a file cap.
func fileEntry(ctx context.Context, s filestore.Store, p filestore.Path, target *caps.Cap) (dirnode.Entry, error) {
	_, name := p.Split()
	if name != "" {
		dir, _, err := filestore.Parent(ctx, s, p)
		if err != nil {
			return dirnode.Entry{}, err
		}
		entries, err := s.ReadDir(ctx, dir)
		if err != nil {
			return dirnode.Entry{}, err
		}
		for _, e := range entries {
			if e.Name == dirnode.Normalize(name) {
				return e, nil
			}
		}
	}
	e := dirnode.Entry{Name: name, ROCap: target.String()}
	if target.IsMutable() && !target.IsReadOnly() {
		e = dirnode.Entry{Name: name, RWCap: target.String()}
		if ro := target.ReadOnly(); ro != nil {
			e.ROCap = ro.String()
		}
	}
	return e, nil
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

// fileFormat is the web API's "format" of a file cap.
func fileFormat(c *caps.Cap) string {
	switch c.Kind {
	case caps.KindSSK, caps.KindSSKRO, caps.KindSSKVerifier:
		return "SDMF"
	case caps.KindMDMF, caps.KindMDMFRO, caps.KindMDMFVerifier:
		return "MDMF"
	}
	return "CHK"
}

// metadataValue is a link's metadata re-read for pyDumps ({} when none
// or unreadable).
func metadataValue(md []byte) any {
	if len(md) == 0 {
		return pyObject{}
	}
	v, err := pyParse(md)
	if err != nil {
		return pyObject{}
	}
	return v
}

// dirJSON is the web API's t=json body of a directory, field for field
// in the order Tahoe's node writes them (web/directory.py), children by
// name as Tahoe's directories store them.
func dirJSON(dir *caps.Cap, entries []dirnode.Entry) []any {
	sorted := append([]dirnode.Entry(nil), entries...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Name < sorted[b].Name })
	children := pyObject{}
	for _, e := range sorted {
		c, err := caps.Parse(e.Cap())
		if err != nil {
			c = &caps.Cap{Kind: caps.KindUnknown, Raw: e.Cap()}
		}
		var info pyObject
		kind := childType(c)
		switch kind {
		case "filenode":
			info = pyObject{{"mutable", c.IsMutable()}, {"format", fileFormat(c)}}
			if n, ok := c.SizeKnown(); ok {
				info = append(info, pyField{"size", int64(n)})
			}
		case "dirnode":
			info = pyObject{{"mutable", c.IsMutable()}}
		}
		info = append(info, pyField{"metadata", metadataValue(e.Metadata)})
		if e.RWCap != "" {
			info = append(info, pyField{"rw_uri", e.RWCap})
		}
		if e.ROCap != "" {
			info = append(info, pyField{"ro_uri", e.ROCap})
		}
		if kind != "unknown" {
			if v := c.Verifier(); v != nil {
				info = append(info, pyField{"verify_uri", v.String()})
			}
		}
		children = append(children, pyField{e.Name, []any{kind, info}})
	}
	d := pyObject{{"children", children}}
	if ro := dir.ReadOnly(); ro != nil {
		d = append(d, pyField{"ro_uri", ro.String()})
	}
	if !dir.IsReadOnly() {
		d = append(d, pyField{"rw_uri", dir.String()})
	}
	if v := dir.Verifier(); v != nil {
		d = append(d, pyField{"verify_uri", v.String()})
	}
	d = append(d, pyField{"mutable", dir.IsMutable()})
	return []any{"dirnode", d}
}

// fileJSON is the web API's t=json body of a file (web/filenode.py):
// size < 0 leaves it out; metadata is the link's, nil for a bare cap.
func fileJSON(c *caps.Cap, metadata []byte, size int64) []any {
	info := pyObject{{"mutable", c.IsMutable()}, {"format", fileFormat(c)}}
	if size >= 0 {
		info = append(info, pyField{"size", size})
	}
	if ro := c.ReadOnly(); ro != nil {
		info = append(info, pyField{"ro_uri", ro.String()})
	}
	if c.IsMutable() && !c.IsReadOnly() {
		info = append(info, pyField{"rw_uri", c.String()})
	}
	if v := c.Verifier(); v != nil {
		info = append(info, pyField{"verify_uri", v.String()})
	}
	if metadata != nil {
		info = append(info, pyField{"metadata", metadataValue(metadata)})
	}
	return []any{"filenode", info}
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
		name := e.Name
		if o.escapeNames {
			name = shellEscape(name)
		}
		row = append(row, name+classify)
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
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
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
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if left[i] {
				parts[i] = cell + pad
			} else {
				parts[i] = pad + cell
			}
		}
		lines = append(lines, strings.TrimRight(strings.Join(parts, " "), " "))
	}
	return lines, unknown
}
