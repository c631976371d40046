package command

import (
	"errors"
	"io"
	"strings"

	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// Error codes: the "code" of an error reported as JSON (docs/json.md).
// They are stable: scripts branch on them.
const (
	CodeUsage        = "usage"         // the command line is wrong (exit 2)
	CodeNotFound     = "not_found"     // a path names nothing
	CodeExists       = "exists"        // the target exists and --force was not given
	CodeReadOnly     = "read_only"     // a write through a read cap
	CodeNotDirectory = "not_directory" // a directory was needed
	CodeUnknownAlias = "unknown_alias" // an alias that is not defined
	CodeNoNode       = "no_node"       // the node directory does not exist or is unusable
	CodeNoGrid       = "no_grid"       // the node directory has no grid
	CodeUnhappy      = "unhappy"       // not enough servers or shares
	CodeInterrupted  = "interrupted"   // SIGINT or SIGTERM (exit 130)
	CodeError        = "error"         // any other failure
)

// ErrorCode names err for scripts: its Error's Kind when set, else by
// what it wraps.
func ErrorCode(err error) string {
	var ce *Error
	if errors.As(err, &ce) && ce.Kind != "" {
		return ce.Kind
	}
	var ua *nodedir.UnknownAliasError
	var ue *client.UnhappinessError
	switch {
	case errors.As(err, &ue), strings.Contains(err.Error(), "not enough good shares"):
		return CodeUnhappy
	case CodeOf(err) == ExitUsage:
		return CodeUsage
	case CodeOf(err) == ExitInterrupted:
		return CodeInterrupted
	case errors.As(err, &ua):
		return CodeUnknownAlias
	case errors.Is(err, filestore.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, filestore.ErrExists), errors.Is(err, safefile.ErrExists), errors.Is(err, nodedir.ErrAliasExists):
		return CodeExists
	case errors.Is(err, filestore.ErrReadOnly):
		return CodeReadOnly
	case errors.Is(err, filestore.ErrNotDirectory):
		return CodeNotDirectory
	case errors.Is(err, lafs.ErrNoGrid):
		return CodeNoGrid
	}
	return CodeError
}

// ErrorJSON is how an error is reported when JSON output is on: one
// object on stderr, {"error": {...}}.
type ErrorJSON struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the body of ErrorJSON.
type ErrorBody struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	ExitCode int    `json:"exit_code"`
}

func reportJSON(w io.Writer, err error) {
	body := ErrorBody{Code: ErrorCode(err), Message: err.Error(), ExitCode: CodeOf(err)}
	var ce *Error
	if errors.As(err, &ce) {
		body.Hint = ce.Hint
	}
	_ = WriteJSONCompact(w, ErrorJSON{Error: body})
}

// suggestCommand returns the visible command closest to name (at most a
// third of its letters off), or "".
func suggestCommand(cmds []*cli.Command, name string) string {
	best, bestD := "", max(2, len(name)/3)+1
	for _, c := range cmds {
		if c.Hidden || c.Name == "help" {
			continue
		}
		for _, n := range c.Names() {
			if d := distance(n, name); d < bestD {
				best, bestD = c.Name, d
			}
		}
	}
	return best
}

// suggestFlag returns the flag ("--name") closest to name, or "".
func suggestFlag(flags []cli.Flag, name string) string {
	best, bestD := "", 3
	for _, fl := range flags {
		for _, n := range fl.Names() {
			if d := distance(n, name); d < bestD && len(n) > 1 {
				best, bestD = "--"+n, d
			}
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Permute moves the flags a user wrote after (or among) a command's
// arguments before them, as gh, git and rclone accept them: "lafs put
// a.txt --json" runs as "lafs put --json a.txt", "lafs rm home:m -r" as
// "lafs rm -r home:m". The app's global flags given after the command
// name move before it. "--" ends flags: what follows stays an argument.
// A command that skips flag parsing gets its words as they are.
func Permute(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	var globals, chain, flags, pos []string
	i := 1
	// Global flags before the command.
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		globals = append(globals, a)
		if fl := findFlag(app.Flags, a); fl != nil && takesValue(fl) && !strings.Contains(a, "=") && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	cmds := app.Commands
	var leaf *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		chain = append(chain, args[i])
		leaf, cmds = c, c.Subcommands
		i++
		if len(c.Subcommands) == 0 {
			break
		}
	}
	if leaf == nil || leaf.SkipFlagParsing {
		return args
	}
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		if fl := findFlag(leaf.Flags, a); fl != nil {
			flags = append(flags, a)
			if takesValue(fl) && !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		if fl := findFlag(app.Flags, a); fl != nil {
			globals = append(globals, a)
			if takesValue(fl) && !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				globals = append(globals, args[i])
			}
			continue
		}
		flags = append(flags, a) // unknown: the parser reports it
	}
	out = append(out, globals...)
	out = append(out, chain...)
	out = append(out, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
	}
	return append(out, pos...)
}
