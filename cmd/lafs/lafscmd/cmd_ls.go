package lafscmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// lsOptions are ls's argument and switches.
type lsOptions struct {
	Path      string // "" for the 'tahoe' alias
	JSON      bool
	Long      bool
	Recursive bool
	Bytes     bool
	Wide      bool
}

type lsEntry struct {
	Name     string          `json:"name"`
	Path     string          `json:"path"` // relative to the directory listed (-R)
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
	if mt, ok := dirnode.LinkMoTime(e.Metadata); ok && mt > 0 {
		t := time.Unix(0, int64(mt*1e9)).UTC()
		out.LinkTime = &t
	}
	return out
}

func newLsCommand(f *command.Factory) *cli.Command {
	var o lsOptions
	var out output
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a directory: names, or a table with -l",
		ArgsUsage: "[ALIAS:PATH]",
		Description: "Names from the grid are shown with control characters escaped (\\x1b, \\n); --json gives them\n" +
			"exactly, one {name, path, type, size, mutable, cap, readcap, link_time, metadata} a line.\n" +
			"On a terminal -l is a table fitted to its width (caps cut with …, --wide for whole ones) with\n" +
			"human sizes (--bytes for exact); piped, -l rows are tab-separated with exact sizes.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "one row per entry: name, type, size, link time, cap", Destination: &o.Long},
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"R"}, Usage: "list subdirectories too (paths relative to the one listed)", Destination: &o.Recursive},
			&cli.BoolFlag{Name: "bytes", Usage: "exact sizes in bytes", Destination: &o.Bytes},
			&cli.BoolFlag{Name: "wide", Usage: "do not cut caps to fit the terminal", Destination: &o.Wide},
			jsonFlag(&out, "print one JSON object per entry (JSON Lines)"),
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("lafs ls takes at most one ALIAS:PATH, got %d argument(s)", cCtx.NArg())
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

// An ls is a short burst of allocation (connections, the directory's
// contents, its entries) in a process that exits right after: with the
// default collector it spends a sixth of its CPU collecting a heap of a
// few MiB. For its length the collector lets the heap grow to five times
// what is live, up to a soft limit that keeps a huge listing from
// growing without bound. GOGC or GOMEMLIMIT in the environment win.
const (
	lsGCPercent   = 400
	lsMemoryLimit = 256 << 20
)

// lazyGC applies lsGCPercent and lsMemoryLimit and returns what restores
// the settings before.
func lazyGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(lsGCPercent)
	limit := debug.SetMemoryLimit(lsMemoryLimit)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(gc)
	}
}

func runLs(ctx context.Context, f *command.Factory, o lsOptions) error {
	defer lazyGC()()
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
	// Names on a pipe need nothing from the caps or the metadata.
	namesOnly := !o.JSON && !o.Long && !o.Recursive && !f.IO.OutTTY
	var entries []lsEntry
	if target.IsDirectory() {
		if entries, err = listDir(ctx, s, target, "", o.Recursive, namesOnly, map[string]bool{}); err != nil {
			return err
		}
	} else {
		_, name := p.Split()
		if name == "" {
			name = arg // a bare file cap: it has no name but itself
		}
		e := describeEntry(dirnode.Entry{Name: name, ROCap: target.String()})
		e.Path = name
		entries = append(entries, e)
	}
	if o.JSON || !o.Long {
		// One write for the lot (or a few), not one per entry.
		w := bufio.NewWriterSize(f.IO.Out, 64<<10)
		for _, e := range entries {
			if o.JSON {
				if err := command.WriteJSONCompact(w, e); err != nil {
					return err
				}
				continue
			}
			w.WriteString(safeName(e.Path))
			if f.IO.OutTTY && e.Type == "directory" {
				w.WriteByte('/')
			}
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	t := newTable(f, "NAME", "TYPE", "SIZE", "LINKED", "CAP")
	t.shrink, t.wide = 4, o.Wide
	for _, e := range entries {
		size, when := "-", "-"
		if e.Size != nil {
			size = strconv.FormatUint(*e.Size, 10)
			if f.IO.OutTTY && !o.Bytes {
				size = progress.Bytes(int64(min(*e.Size, 1<<62)))
			}
		}
		if e.LinkTime != nil {
			when = e.LinkTime.Local().Format("2006-01-02 15:04")
			if !f.IO.OutTTY {
				when = e.LinkTime.UTC().Format(time.RFC3339)
			}
		}
		name := safeName(e.Path)
		if f.IO.OutTTY && e.Type == "directory" {
			name += "/"
		}
		t.row(name, e.Type, size, when, e.Cap)
	}
	return t.flush()
}

// listDir returns a directory's entries sorted by name, with Path set
// (prefix + name), and with -R those of its subdirectories after each.
// With namesOnly (not with recursive) only Name and Path are set. seen
// stops a directory that contains itself.
func listDir(ctx context.Context, s filestore.Store, dir *caps.Cap, prefix string, recursive, namesOnly bool, seen map[string]bool) ([]lsEntry, error) {
	seen[dir.String()] = true
	es, err := s.ReadDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	out := make([]lsEntry, 0, len(es))
	for _, e := range es {
		d := lsEntry{Name: e.Name}
		if !namesOnly || recursive {
			d = describeEntry(e)
		}
		d.Path = prefix + e.Name
		out = append(out, d)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	if !recursive {
		return out, nil
	}
	var all []lsEntry
	for _, e := range out {
		all = append(all, e)
		if e.Type != "directory" {
			continue
		}
		c, err := caps.Parse(e.Cap)
		if err != nil || seen[c.String()] {
			continue
		}
		sub, err := listDir(ctx, s, c, e.Path+"/", true, false, seen)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		all = append(all, sub...)
	}
	return all, nil
}
