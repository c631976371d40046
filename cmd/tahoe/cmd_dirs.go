package main

import (
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

// openNode opens the node directory named by the global flags.
func openNode(cCtx *cli.Context) (*nodedir.Node, error) {
	return nodedir.Open(readGlobals(cCtx).NodeDir)
}

// tahoePath is a path argument resolved to its root directory cap and the
// path below it.
type tahoePath = filestore.Path

func parseTahoePath(node *nodedir.Node, arg string) (tahoePath, error) {
	aliases, err := node.Aliases()
	if err != nil {
		return tahoePath{}, err
	}
	return filestore.ParsePath(aliases, arg)
}

func newCreateAliasCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "create-alias",
		Usage:     "create a new directory and an alias for it",
		ArgsUsage: "ALIAS[:]",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Usage: "SDMF or MDMF"}},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS"); err != nil {
				return err
			}
			alias := strings.TrimSuffix(cCtx.Args().First(), ":")
			if err := nodedir.CheckAliasName(alias); err != nil {
				return err
			}
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			if a, _ := node.Aliases(); a[alias] != "" {
				return fmt.Errorf("Alias '%s' already exists!", alias)
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			dir, err := c.Mkdir(cCtx.Context, filestore.MkdirOptions{Format: mkdirFormat(cCtx.String("format"))})
			if err != nil {
				return err
			}
			if err := node.AddAlias(alias, dir.String()); err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "Alias '%s' created\n", alias)
			return nil
		},
	}
}

func newAddAliasCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "add-alias",
		Usage:     "add an alias for an existing directory cap",
		ArgsUsage: "ALIAS[:] DIRCAP",
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "ALIAS DIRCAP"); err != nil {
				return err
			}
			alias := strings.TrimSuffix(cCtx.Args().Get(0), ":")
			dir, err := caps.Parse(cCtx.Args().Get(1))
			if err != nil {
				return err
			}
			if !dir.IsDirectory() {
				return fmt.Errorf("%s is not a directory cap", dir.Kind)
			}
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			if err := node.AddAlias(alias, dir.String()); err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "Alias '%s' added\n", alias)
			return nil
		},
	}
}

func newListAliasesCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:  "list-aliases",
		Usage: "list the aliases of the node directory",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "readonly-uri", Usage: "show read-only caps"},
			&cli.BoolFlag{Name: "json", Usage: "print {alias: {readwrite, readonly}}"},
		},
		Action: func(cCtx *cli.Context) error {
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			aliases, err := node.Aliases()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(aliases))
			width := 0
			type details struct {
				ReadWrite string `json:"readwrite"`
				ReadOnly  string `json:"readonly"`
			}
			data := map[string]details{}
			for name, s := range aliases {
				names = append(names, name)
				width = max(width, len(name))
				d := details{ReadWrite: s, ReadOnly: s}
				if c, err := caps.Parse(s); err == nil && c.ReadOnly() != nil {
					d = details{ReadWrite: c.String(), ReadOnly: c.ReadOnly().String()}
				}
				data[name] = d
			}
			sort.Strings(names)
			if cCtx.Bool("json") {
				b, err := json.MarshalIndent(data, "", "    ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(stdio.Out, string(b))
				return err
			}
			for _, name := range names {
				s := data[name].ReadWrite
				if cCtx.Bool("readonly-uri") {
					s = data[name].ReadOnly
				}
				fmt.Fprintf(stdio.Out, "%*s: %s\n", width, name, s)
			}
			return nil
		},
	}
}

func newMkdirCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "mkdir",
		Usage:     "create a directory; with PATH, link it there",
		ArgsUsage: "[PATH]",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Usage: "SDMF or MDMF"}},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("mkdir takes at most one PATH")
			}
			format := strings.ToUpper(cCtx.String("format"))
			if format != "" && format != "SDMF" && format != "MDMF" {
				return command.Usagef("--format=%s: want SDMF or MDMF", cCtx.String("format"))
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			var tp tahoePath
			if cCtx.NArg() == 1 {
				node, err := openNode(cCtx)
				if err != nil {
					return err
				}
				if tp, err = parseTahoePath(node, cCtx.Args().First()); err != nil {
					return err
				}
			}
			dir, err := c.Mkdir(cCtx.Context, filestore.MkdirOptions{Format: mkdirFormat(format)})
			if err != nil {
				return err
			}
			if tp.Root != nil {
				parent, name, err := resolveParent(cCtx, c, tp)
				if err != nil {
					return err
				}
				if err := c.Link(cCtx.Context, parent, name, dir, false); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintln(stdio.Out, dir.String())
			return err
		},
	}
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

func newLsCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a directory",
		ArgsUsage: "[PATH]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "type, size and link time"},
			&cli.BoolFlag{Name: "uri", Usage: "show each child's cap"},
			&cli.BoolFlag{Name: "readonly-uri", Usage: "show each child's read-only cap"},
			&cli.BoolFlag{Name: "classify", Aliases: []string{"F"}, Usage: "append / to directories, * to mutable files"},
			&cli.BoolFlag{Name: "json", Usage: "print the web API's JSON for the directory"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("ls takes at most one PATH")
			}
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			arg := cCtx.Args().First()
			if arg == "" {
				arg = nodedir.DefaultAlias + ":"
			}
			tp, err := parseTahoePath(node, arg)
			if err != nil {
				return err
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			target, err := c.Resolve(cCtx.Context, tp.Root, tp.Rel)
			if errors.Is(err, filestore.ErrNotFound) {
				return &command.Error{Err: errors.New("No such file or directory"), Code: 2}
			}
			if err != nil {
				return err
			}
			if !target.IsDirectory() {
				_, name := tp.Split()
				fmt.Fprintln(stdio.Out, name)
				return nil
			}
			entries, err := c.ReadDir(cCtx.Context, target)
			if err != nil {
				return err
			}
			if cCtx.Bool("json") {
				return command.WriteJSONCompact(stdio.Out, dirJSON(target, entries))
			}
			return printLs(cCtx, stdio, entries)
		},
	}
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

// lsOptions are ls's output switches.
type lsOptions struct {
	long, uri, readonlyURI, classify bool
}

// printLs prints entries as Tahoe's ls does.
func printLs(cCtx *cli.Context, stdio *command.IO, entries []dirnode.Entry) error {
	o := lsOptions{long: cCtx.Bool("long"), uri: cCtx.Bool("uri"), readonlyURI: cCtx.Bool("readonly-uri"), classify: cCtx.Bool("classify")}
	lines, unknown := formatLs(entries, o, time.Now())
	for _, l := range lines {
		fmt.Fprintln(stdio.Out, l)
	}
	if unknown {
		fmt.Fprintln(stdio.Err, "\nThis listing included unknown objects. Using a webapi server that supports\na later version of Tahoe may help.")
	}
	return nil
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
			t := time.Unix(int64(ctime), 0)
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
		if o.long {
			row = append(row, perm, size, ctimeS)
		}
		if !o.classify {
			classify = ""
		}
		row = append(row, e.Name+classify)
		if o.uri {
			row = append(row, e.Cap())
		}
		if o.readonlyURI {
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

// resolveParent returns the directory holding a path's last name.
func resolveParent(cCtx *cli.Context, c filestore.Store, tp tahoePath) (*caps.Cap, string, error) {
	dir, name, err := filestore.Parent(cCtx.Context, c, tp)
	if name == "" && err != nil {
		return nil, "", command.Usagef("%v", err)
	}
	return dir, name, err
}

func newLnCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "ln",
		Usage:     "link a file or directory under a new name",
		ArgsUsage: "FROM TO",
		Action: func(cCtx *cli.Context) error {
			return moveOrLink(cCtx, stdio, false)
		},
	}
}

func newMvCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "mv",
		Usage:     "move a file or directory to a new name",
		ArgsUsage: "FROM TO",
		Action: func(cCtx *cli.Context) error {
			return moveOrLink(cCtx, stdio, true)
		},
	}
}

func moveOrLink(cCtx *cli.Context, stdio *command.IO, move bool) error {
	if err := command.ExactArgs(cCtx, 2, "FROM TO"); err != nil {
		return err
	}
	node, err := openNode(cCtx)
	if err != nil {
		return err
	}
	from, err := parseTahoePath(node, cCtx.Args().Get(0))
	if err != nil {
		return err
	}
	to, err := parseTahoePath(node, cCtx.Args().Get(1))
	if err != nil {
		return err
	}
	c, err := openClient(cCtx, stdio)
	if err != nil {
		return err
	}
	defer c.Close()
	child, err := c.Resolve(cCtx.Context, from.Root, from.Rel)
	if err != nil {
		return err
	}
	// Linking into an existing directory keeps the name, as Tahoe does.
	dest := to
	if existing, err := c.Resolve(cCtx.Context, to.Root, to.Rel); err == nil && existing.IsDirectory() {
		_, name := from.Split()
		dest = to.Join(name)
	}
	parent, name, err := resolveParent(cCtx, c, dest)
	if err != nil {
		return err
	}
	if err := c.Link(cCtx.Context, parent, name, child, true); err != nil {
		return err
	}
	if move {
		fromParent, fromName, err := resolveParent(cCtx, c, from)
		if err != nil {
			return err
		}
		if fromParent.String() != parent.String() || fromName != name {
			if err := c.Unlink(cCtx.Context, fromParent, fromName); err != nil {
				return err
			}
		}
	}
	if !readGlobals(cCtx).Quiet {
		fmt.Fprintln(stdio.Out, "OK")
	}
	return nil
}

func newUnlinkCommand(stdio *command.IO, name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "remove a name from its directory",
		ArgsUsage: "PATH",
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "PATH"); err != nil {
				return err
			}
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			tp, err := parseTahoePath(node, cCtx.Args().First())
			if err != nil {
				return err
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			parent, child, err := resolveParent(cCtx, c, tp)
			if err != nil {
				return err
			}
			return c.Unlink(cCtx.Context, parent, child)
		},
	}
}

// mkdirFormat reads a mutable --format (SDMF unless it says MDMF).
func mkdirFormat(s string) filestore.Format {
	if strings.EqualFold(s, "MDMF") {
		return filestore.FormatMDMF
	}
	return filestore.FormatSDMF
}
