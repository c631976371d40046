package nodedir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// DefaultAlias is the alias Tahoe's commands use when a path names none.
const DefaultAlias = "tahoe"

// Aliases reads private/aliases ("name: cap" lines; '#' comments) and
// private/root_dir.cap (the default alias of old nodes), as Tahoe does.
func (n *Node) Aliases() (map[string]string, error) {
	out := map[string]string{}
	if b, err := os.ReadFile(n.Path("private", "root_dir.cap")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			out[DefaultAlias] = s
		}
	}
	b, err := os.ReadFile(n.Path("private", "aliases"))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading aliases: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, capStr, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected 'name: cap'", n.Path("private", "aliases"), lineNo)
		}
		out[name] = strings.TrimSpace(capStr)
	}
	return out, sc.Err()
}

// CheckAliasName applies Tahoe's rules for alias names.
func CheckAliasName(name string) error {
	switch {
	case name == "":
		return errors.New("an alias name cannot be empty")
	case strings.Contains(name, ":"):
		return errors.New("Alias names cannot contain colons.")
	case strings.Contains(name, " "):
		return errors.New("Alias names cannot contain spaces.")
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
