// Package location is the one meaning both command lines give a path
// argument: a place in the grid ("alias:dir/file", "URI:DIR2:...:./file",
// "URI:DIR2:.../file"), a local file or directory, or standard input or
// output ("-"). put, get, cp, mv, ln and rm of tahoe and lafs, and the
// copier, all read their arguments through Parse, ParseGrid or ParseLocal.
//
// The rule is Tahoe-LAFS's (scripts/common.py get_alias, as tahoe cp
// applies it): an argument starting with a cap prefix is in the grid; one
// with no colon, or with a slash before its first colon ("./a:b",
// "dir/x:7"), is local; any other "name:rest" names the alias name, and an
// alias that does not exist is an error, never a local file. A local file
// whose name has a colon is written "./name:x".
//
// It owns no I/O: whether a place exists, and what it is, is for the
// caller to ask the file store or the local file system.
package location

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Kind says where a Location is.
type Kind uint8

// The kinds of location.
const (
	Local Kind = iota + 1 // a local file or directory
	Grid                  // a place in the grid
	Std                   // standard input or output ("-")
)

// String names the kind: local, grid or std.
func (k Kind) String() string {
	switch k {
	case Local:
		return "local"
	case Grid:
		return "grid"
	case Std:
		return "std"
	}
	return "none"
}

// Location is one parsed path argument. The zero value is no location.
type Location struct {
	kind  Kind
	local string
	grid  filestore.Path
	slash bool   // the argument ended with a slash
	arg   string // the argument as given
}

// Parse reads an argument that may be local or in the grid (cp's sources
// and target, put's destination): Tahoe's rule, see the package comment.
// "-" is standard input or output.
func Parse(aliases map[string]string, arg string) (Location, error) {
	if arg == "-" {
		return Location{kind: Std, arg: arg}, nil
	}
	if IsGridArg(arg) {
		return ParseGrid(aliases, arg)
	}
	return ParseLocal(arg), nil
}

// IsGridArg reports whether Parse reads arg as a grid path (the alias may
// still be unknown): a cap prefix, or a colon with no slash before it. A
// Windows drive letter ("C:\x") is local there.
func IsGridArg(arg string) bool {
	p := strings.Trim(arg, " ")
	if nodedir.HasCapPrefix(p) {
		return true
	}
	i := strings.Index(p, ":")
	if i < 0 || strings.Contains(p[:i], "/") {
		return false
	}
	if i == 1 && runtime.GOOS == "windows" {
		return false
	}
	return true
}

// ParseGrid reads an argument that is always in the grid (ls, mkdir, ln,
// mv, rm, put's and get's grid side): a bare path is in the default alias
// ("tahoe:"), as in Tahoe's commands other than cp.
func ParseGrid(aliases map[string]string, arg string) (Location, error) {
	p, err := filestore.ParsePath(aliases, arg)
	if err != nil {
		return Location{}, err
	}
	for _, seg := range strings.Split(p.Rel, "/") {
		if seg == "." || seg == ".." {
			return Location{}, fmt.Errorf("%s: a grid path has no %q: name each directory", arg, seg)
		}
	}
	if p.Rel != "" && !p.Root.IsDirectory() && !p.Root.IsUnknown() {
		return Location{}, fmt.Errorf("%s: %s is a file cap, not a directory: it has no children", arg, p.Root.Kind)
	}
	return Location{kind: Grid, grid: p, slash: strings.HasSuffix(strings.TrimRight(arg, " "), "/"), arg: arg}, nil
}

// ParseLocal reads an argument that is always local (get's output file):
// "-" or "" is standard output or input.
func ParseLocal(arg string) Location {
	if arg == "" || arg == "-" {
		return Location{kind: Std, arg: arg}
	}
	return Location{kind: Local, local: arg, slash: strings.HasSuffix(arg, "/") || strings.HasSuffix(arg, string(filepath.Separator)), arg: arg}
}

// LocalPath returns a local location for path.
func LocalPath(path string) Location { return ParseLocal(path) }

// GridPath returns a grid location for p.
func GridPath(p filestore.Path) Location {
	return Location{kind: Grid, grid: p, arg: p.Rel}
}

// Kind says where the location is.
func (l Location) Kind() Kind { return l.kind }

// IsLocal reports whether the location is a local file or directory.
func (l Location) IsLocal() bool { return l.kind == Local }

// IsGrid reports whether the location is in the grid.
func (l Location) IsGrid() bool { return l.kind == Grid }

// IsStd reports whether the location is standard input or output.
func (l Location) IsStd() bool { return l.kind == Std }

// Path is a grid location's place (the zero Path otherwise).
func (l Location) Path() filestore.Path { return l.grid }

// LocalName is a local location's file name (as given; "" otherwise).
func (l Location) LocalName() string { return l.local }

// TrailingSlash reports whether the argument ended with a slash: the user
// said it is a directory.
func (l Location) TrailingSlash() bool { return l.slash }

// IsRoot reports whether a grid location is a cap with no path below it
// ("alias:", "URI:DIR2:...", "URI:CHK:..."), not a child of a directory.
func (l Location) IsRoot() bool { return l.kind == Grid && l.grid.Rel == "" }

// Directoryish reports whether the argument itself says it is a
// directory: a trailing slash, a grid root, or a local "." or "..".
func (l Location) Directoryish() bool {
	switch l.kind {
	case Grid:
		return l.slash || (l.IsRoot() && l.grid.Root.IsDirectory())
	case Local:
		b := filepath.Base(l.local)
		return l.slash || b == "." || b == ".."
	}
	return false
}

// Base is the last name of the location: the name a copy of it gets
// inside a directory. It is "" for a grid root, "-" and a local "/".
func (l Location) Base() string {
	switch l.kind {
	case Grid:
		_, name := l.grid.Split()
		return name
	case Local:
		b := filepath.Base(filepath.Clean(l.local))
		if b == string(filepath.Separator) || b == "." || b == ".." {
			return ""
		}
		return b
	}
	return ""
}

// Join returns the location of name inside l (l itself for "-").
func (l Location) Join(name string) Location {
	switch l.kind {
	case Grid:
		arg := l.arg
		if !strings.HasSuffix(arg, ":") && !strings.HasSuffix(arg, "/") {
			arg += "/"
		}
		return Location{kind: Grid, grid: l.grid.Join(name), arg: arg + name}
	case Local:
		p := filepath.Join(l.local, name)
		return Location{kind: Local, local: p, arg: p}
	}
	return l
}

// String is the argument as given (or as joined).
func (l Location) String() string { return l.arg }
