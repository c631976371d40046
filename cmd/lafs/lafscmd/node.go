package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// defaultLocalGridServers is the size of the embedded grid lafs creates on
// first use: enough for Tahoe's default 3-of-10, happy 7.
const defaultLocalGridServers = 10

// globalFlags are lafs's options that apply to every command (before or
// after its name); they fill f.
func globalFlags(f *command.Factory) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"},
			Usage: "the node directory to use (default: $LAFS_NODE_DIRECTORY, the preferences' node_directory, else ~/.tahoe)", Destination: &f.NodeDirFlag},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars or informational messages", Destination: &f.IO.Quiet},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "whole error messages (every server's answer)", Destination: &f.Verbose},
		&cli.BoolFlag{Name: "json", Usage: "JSON output (and errors) for every command", Destination: &f.JSONOutput},
		&cli.BoolFlag{Name: "version", Usage: "print the version and exit", Action: func(*cli.Context, bool) error {
			fmt.Fprintf(f.IO.Out, "lafs version %s\n", cliVersion())
			return command.ErrDone
		}},
	}
}

// createNode makes a client node directory with an embedded local grid of
// n share directories and says on stderr what it is and how to leave it.
func createNode(stdio *command.IO, dir string, n int) error {
	opts := node.NewNodeOptions()
	opts.NoStorage, opts.Listen, opts.WebPort = true, "none", "none"
	if err := node.CreateNode(dir, opts); err != nil {
		return fmt.Errorf("creating node directory %s: %w", dir, err)
	}
	if err := localgrid.Create(dir, n); err != nil {
		return err
	}
	ratio := ""
	if nd, err := nodedir.Open(dir); err == nil {
		if e, err := nd.Encoding(); err == nil && e.Needed > 0 {
			ratio = fmt.Sprintf("; %d-of-%d shares use %.1f× each file's size", e.Needed, e.Total, float64(e.Total)/float64(e.Needed))
		}
	}
	fmt.Fprintf(stdio.Err, "lafs: created node directory %s with a local test grid: %d share directories under %s/local-grid, all on THIS disk (no redundancy%s)\n",
		dir, n, dir, ratio)
	fmt.Fprintf(stdio.Err, "lafs: for a real grid, list its storage servers in %s/private/servers.yaml (or try 'lafs grid up DIR')\n", dir)
	return nil
}

// output is how a command prints: JSON (--json, global or the command's,
// or the preferences' output = "json") or for people.
type output struct {
	JSON bool
	set  bool // --json was given, either way
}

// jsonFlag is the --json flag of a command, filling o.
func jsonFlag(o *output, usage string) cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: usage, Destination: &o.JSON, Action: func(*cli.Context, bool) error {
		o.set = true
		return nil
	}}
}

// asJSON reports whether output should be JSON.
func asJSON(f *command.Factory, o output) (bool, error) {
	if o.set || f.JSONOutput {
		return o.JSON || f.JSONOutput, nil
	}
	p, err := f.Prefs()
	if err != nil {
		return false, err
	}
	return p.Output == "json", nil
}

// bar returns a progress bar on a terminal, or one that draws nothing.
func bar(f *command.Factory, json bool, label string, total int64) *progress.Bar {
	p, _ := f.Prefs()
	if f.IO.Quiet || !f.IO.ErrTTY || !p.ShowProgress() || json {
		return progress.Nop()
	}
	b := progress.New(f.IO.Err, label, total)
	cols := f.IO.Width // the terminal's, when stdout is it too
	if cols <= 0 {
		cols = 80
	}
	b.FitTo(cols)
	return b
}

// safeName shows a name from the grid on a terminal or in a list: control
// characters (ESC, newline, tab, C1), bidirectional overrides and the
// backslash are written as Go escapes (\x1b, \n, \u202e, \\), so a shared
// directory cannot move the cursor, recolour the terminal or forge rows.
// JSON output carries names exactly.
func safeName(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == '\\' || unicode.IsControl(r) || r == unicode.ReplacementChar ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// shortError shortens the grid's long errors for people (the whole text
// is behind -v): an unhappy upload becomes one line with the counts and a
// hint to run lafs status; other long errors are cut at 300 characters.
func shortError(err error) error {
	msg := err.Error()
	var ce *command.Error
	code, hint := command.ExitError, ""
	if errors.As(err, &ce) {
		code, hint = ce.Code, ce.Hint
	}
	var ue *client.UnhappinessError
	if errors.As(err, &ue) {
		head := ""
		if i := strings.Index(msg, ue.Error()); i > 0 {
			head = msg[:i]
		}
		short := fmt.Sprintf("%sshares could be placed on only %d server(s), need %d (%d of %d servers reachable, %d of them read-only)",
			head, ue.Happiness, ue.Happy, ue.Reachable, ue.Servers, ue.ReadOnly)
		return &command.Error{Err: errors.New(short), Code: code, Kind: command.CodeUnhappy,
			Hint: "run 'lafs status' to see which servers are reachable; -v shows every server's answer"}
	}
	var nes *chk.NotEnoughSharesError
	if errors.As(err, &nes) {
		// One line: each rejection's first line (the codec joins "corrupt
		// share" on a line of its own), and what to run next.
		head, tail := "", ""
		if i := strings.Index(msg, nes.Error()); i >= 0 {
			head, tail = msg[:i], msg[i+len(nes.Error()):]
		}
		short := fmt.Sprintf("%sfound %d good share(s), need %d", head, nes.Found, nes.Needed)
		if len(nes.Bad) == 0 {
			// What the caller added, e.g. "(no server of 10 holds a share …)".
			short += tail
		} else {
			nums := make([]int, 0, len(nes.Bad))
			for n := range nes.Bad {
				nums = append(nums, n)
			}
			slices.Sort(nums)
			first, _, _ := strings.Cut(nes.Bad[nums[0]].Error(), "\n")
			short += fmt.Sprintf("; share %d rejected: %s", nums[0], first)
			if len(nums) > 1 {
				short += fmt.Sprintf(" (and %d more)", len(nums)-1)
			}
		}
		return &command.Error{Err: errors.New(truncate(short, 300)), Code: code, Kind: command.ErrorCode(err),
			Hint: "run 'lafs status' to see which servers are reachable, and 'lafs check --verify CAP' for each share's state; -v shows the whole message"}
	}
	if len(msg) <= 300 {
		return err
	}
	if hint == "" {
		hint = "-v shows the whole message"
	}
	return &command.Error{Err: errors.New(truncate(msg, 300)), Code: code, Kind: command.ErrorCode(err), Hint: hint}
}

// completeGrid offers aliases ("home:") for a word with no colon, and the
// children of a grid directory for "alias:dir/pre". It only reads.
func completeGrid(ctx context.Context, f *command.Factory, cur string) []string {
	if _, err := f.NodeDir(); err != nil || !f.NodeDirExists() {
		return nil
	}
	aliases, err := f.Aliases()
	if err != nil {
		return nil
	}
	if !strings.Contains(cur, ":") {
		var out []string
		for a := range aliases {
			out = append(out, a+":")
		}
		return out
	}
	if !location.IsGridArg(cur) || nodedir.HasCapPrefix(cur) {
		return nil
	}
	dirArg, pre := cur, ""
	if i := strings.LastIndexAny(cur, ":/"); i >= 0 {
		dirArg, pre = cur[:i+1], cur[i+1:]
	}
	l, err := location.ParseGrid(aliases, strings.TrimSuffix(dirArg, "/"))
	if err != nil {
		return nil
	}
	s, err := f.Store()
	if err != nil {
		return nil
	}
	defer f.Close()
	c, err := lookupDir(ctx, s, l)
	if err != nil {
		return nil
	}
	es, err := s.ReadDir(ctx, c)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name, pre) || strings.ContainsFunc(e.Name, needsEscape) || strings.ContainsAny(e.Name, " '\"$`") {
			continue
		}
		name := dirArg + e.Name
		if ec, err := parseEntryCap(e); err == nil && ec.IsDirectory() {
			name += "/"
		}
		out = append(out, name)
	}
	return out
}
