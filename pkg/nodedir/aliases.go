package nodedir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultAlias is the alias Tahoe's commands use when a path names none.
const DefaultAlias = "tahoe"

// Aliases reads private/aliases ("name: cap" lines; '#' comments) and
// private/root_dir.cap (the default alias of old nodes), as Tahoe does.
// Damaged lines are skipped (ReadAliases says which); the error is for a
// file that cannot be read at all.
func (n *Node) Aliases() (map[string]string, error) {
	a, _, err := n.ReadAliases()
	return a, err
}

// AliasLineError is a line of private/aliases that holds no alias: it is
// skipped, and the other lines still count.
type AliasLineError struct {
	File string
	Line int
	Err  error
}

// Error names the file and line.
func (e *AliasLineError) Error() string {
	return fmt.Sprintf("%s:%d: %v; the line is ignored", e.File, e.Line, e.Err)
}

// Unwrap returns what is wrong with the line.
func (e *AliasLineError) Unwrap() error { return e.Err }

// ReadAliases is Aliases with the damaged lines of private/aliases named:
// each is an *AliasLineError in bad, and the good lines are in aliases.
func (n *Node) ReadAliases() (aliases map[string]string, bad []error, err error) {
	out := map[string]string{}
	if b, err := os.ReadFile(n.Path("private", "root_dir.cap")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			out[DefaultAlias] = s
		}
	}
	path := n.Path("private", "aliases")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading aliases: %w", err)
	}
	return out, parseAliases(out, path, b), nil
}

// parseAliases adds the aliases of an aliases file's text b to out and
// returns its damaged lines.
func parseAliases(out map[string]string, path string, b []byte) (bad []error) {
	for i, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad1 := func(err error) { bad = append(bad, &AliasLineError{File: path, Line: i + 1, Err: err}) }
		name, capStr, ok := strings.Cut(line, ":")
		switch {
		case !ok:
			bad1(errors.New("expected 'name: cap'"))
			continue
		case !utf8.ValidString(line):
			bad1(errors.New("not UTF-8"))
			continue
		}
		capStr = strings.TrimSpace(capStr)
		if name == "" {
			bad1(errors.New("an alias name cannot be empty"))
			continue
		}
		if capStr == "" {
			bad1(fmt.Errorf("alias %q has no cap", name))
			continue
		}
		out[name] = capStr
	}
	return bad
}

// CheckAliasName applies Tahoe's rules for alias names (no colon, no
// space), and refuses what its aliases file cannot hold: line breaks of
// any kind (Tahoe reads the file with Python's universal line splitting),
// other control characters such as a tab, invalid UTF-8, and a leading
// '#' (a comment).
func CheckAliasName(name string) error {
	switch {
	case name == "":
		return errors.New("an alias name cannot be empty")
	case strings.Contains(name, ":"):
		return errors.New("Alias names cannot contain colons.")
	case strings.Contains(name, " "):
		return errors.New("Alias names cannot contain spaces.")
	case !utf8.ValidString(name):
		return errors.New("an alias name must be UTF-8")
	case strings.HasPrefix(name, "#"):
		return errors.New("an alias name cannot start with '#' (the aliases file would read it as a comment)")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' || unicode.IsSpace(r) {
			return fmt.Errorf("an alias name cannot contain %q (the aliases file holds one alias a line)", r)
		}
	}
	return nil
}

// ErrAliasExists is returned when adding an alias that exists.
var ErrAliasExists = errors.New("alias already exists")

// AddAlias appends "name: cap" to private/aliases through a temporary file
// and a rename, as Tahoe does, refusing a name that exists.
func (n *Node) AddAlias(name, capStr string) error {
	if err := CheckAliasName(name); err != nil {
		return err
	}
	old, err := n.Aliases()
	if err != nil {
		return err
	}
	if _, ok := old[name]; ok {
		return fmt.Errorf("Alias %q already exists!: %w", name, ErrAliasExists)
	}
	path := n.Path("private", "aliases")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading aliases: %w", err)
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	b = append(b, fmt.Sprintf("%s: %s\n", name, capStr)...)
	return WriteFileAtomic(path, b, 0o600)
}

// UnknownAliasError names an alias that is not defined.
type UnknownAliasError struct{ Alias string }

func (e *UnknownAliasError) Error() string {
	if e.Alias == DefaultAlias {
		return "No alias specified, and the default 'tahoe' alias doesn't exist. To create it, use 'tahoe create-alias tahoe'."
	}
	return fmt.Sprintf("Unknown alias '%s', please create it with 'tahoe add-alias' or 'tahoe create-alias'.", e.Alias)
}

// capPrefixes start a path argument at a cap rather than at an alias
// (Tahoe's uri.has_uri_prefix). This is the one list of them.
var capPrefixes = [...]string{"URI:", "ro.URI:", "imm.URI:"}

// HasCapPrefix reports whether a path argument starts with a cap
// ("URI:...", "ro.URI:...", "imm.URI:..."), not an alias.
func HasCapPrefix(arg string) bool {
	for _, p := range capPrefixes {
		if strings.HasPrefix(arg, p) {
			return true
		}
	}
	return false
}

// SplitPath turns a Tahoe path argument ("alias:sub/path", "URI:...:./sub"
// or "URI:.../sub", or a bare path in the default alias) into the root cap
// string and the path below it.
func SplitPath(aliases map[string]string, arg string) (rootCap, path string, err error) {
	p := strings.Trim(arg, " ")
	if HasCapPrefix(p) {
		if i := strings.Index(p, ":./"); i >= 0 {
			return p[:i], p[i+3:], nil
		}
		if i := strings.Index(p, "/"); i >= 0 {
			return p[:i], p[i+1:], nil
		}
		return p, "", nil
	}
	alias, rest := DefaultAlias, p
	if i := strings.Index(p, ":"); i >= 0 && !strings.Contains(p[:i], "/") {
		alias, rest = p[:i], p[i+1:]
	}
	c, ok := aliases[alias]
	if !ok {
		return "", "", &UnknownAliasError{Alias: alias}
	}
	return c, rest, nil
}
