package filestore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Path is a place in the grid's file system: a root directory cap and a
// slash-separated path below it (Tahoe's "alias:sub/file" or
// "URI:DIR2:...:./sub/file").
type Path struct {
	Root *caps.Cap
	Rel  string // no leading or trailing slash
}

// ParsePath resolves a path argument against the node's aliases.
func ParsePath(aliases map[string]string, arg string) (Path, error) {
	rootStr, rel, err := nodedir.SplitPath(aliases, arg)
	if err != nil {
		return Path{}, err
	}
	root, err := caps.Parse(rootStr)
	if err != nil {
		return Path{}, err
	}
	if strings.HasPrefix(rel, "/") {
		return Path{}, fmt.Errorf("the remote path %q must not start with a slash", rel)
	}
	return Path{Root: root, Rel: strings.Trim(rel, "/")}, nil
}

// Split returns the path of the parent directory and the last name.
func (p Path) Split() (Path, string) {
	dir, name := path.Split(p.Rel)
	return Path{Root: p.Root, Rel: strings.Trim(dir, "/")}, name
}

// Join appends a name.
func (p Path) Join(name string) Path {
	return Path{Root: p.Root, Rel: strings.Trim(p.Rel+"/"+name, "/")}
}

// Lookup returns the cap a path names.
func Lookup(ctx context.Context, s Store, p Path) (*caps.Cap, error) {
	return s.Resolve(ctx, p.Root, p.Rel)
}

// Parent resolves the directory holding a path's last name.
func Parent(ctx context.Context, s Store, p Path) (*caps.Cap, string, error) {
	parent, name := p.Split()
	if name == "" {
		return nil, "", fmt.Errorf("%q names a root directory, not a child", p.Rel)
	}
	dir, err := Lookup(ctx, s, parent)
	if err != nil {
		return nil, "", err
	}
	if !dir.IsDirectory() {
		return nil, "", fmt.Errorf("%q: %w", parent.Rel, ErrNotDirectory)
	}
	return dir, name, nil
}

// MkdirAll creates the directories of p that do not exist (as mkdir -p)
// and returns the cap of the last; format is that of the new ones.
func MkdirAll(ctx context.Context, s Store, p Path, format Format) (*caps.Cap, error) {
	cur := p.Root
	for _, part := range strings.Split(p.Rel, "/") {
		if part == "" {
			continue
		}
		next, err := s.Resolve(ctx, cur, part)
		if err == nil {
			if !next.IsDirectory() {
				return nil, fmt.Errorf("%q exists and is a file: %w", part, ErrNotDirectory)
			}
			cur = next
			continue
		}
		if !isNotFound(err) {
			return nil, err
		}
		dir, err := s.Mkdir(ctx, MkdirOptions{Format: format})
		if err != nil {
			return nil, err
		}
		if err := s.Link(ctx, cur, part, dir, false); err != nil {
			return nil, err
		}
		cur = dir
	}
	return cur, nil
}

// LookupFile resolves a file argument: a file cap as it is, or a path
// ("alias:dir/file", "URI:DIR2:...:./file") to the file it names. A
// directory is an error.
func LookupFile(ctx context.Context, s Store, aliases map[string]string, arg string) (*caps.Cap, error) {
	cp, err := caps.Parse(arg)
	if err == nil && !cp.IsUnknown() && !cp.IsDirectory() {
		return cp, nil
	}
	if err != nil && !strings.Contains(strings.TrimPrefix(arg, "URI:"), "/") {
		return nil, err // a malformed cap, not a path into a directory
	}
	p, perr := ParsePath(aliases, arg)
	if perr != nil {
		return nil, perr
	}
	if cp, err = Lookup(ctx, s, p); err != nil {
		return nil, err
	}
	if cp.IsDirectory() {
		return nil, fmt.Errorf("%s is a directory", arg)
	}
	return cp, nil
}

// MoveOptions tune Move.
type MoveOptions struct {
	// Replace an existing name at the destination (ErrExists otherwise).
	Replace bool
	// Copy leaves the source linked where it is (tahoe ln).
	Copy bool
}

// Move links what from names at to and then unlinks it from its old place
// (unless o.Copy). When to names an existing directory the object keeps its
// name inside it, as POSIX mv and Tahoe do. Moving a directory into itself
// or below itself is refused: it would orphan the whole subtree. It returns
// the place the object is now linked at.
func Move(ctx context.Context, s Store, from, to Path, o MoveOptions) (Path, error) {
	child, err := Lookup(ctx, s, from)
	if err != nil {
		return Path{}, err
	}
	if existing, err := Lookup(ctx, s, to); err == nil && existing.IsDirectory() {
		_, name := from.Split()
		if name == "" {
			return Path{}, fmt.Errorf("cannot move a root directory into %q", to.Rel)
		}
		to = to.Join(name)
	}
	toParent, toName := to.Split()
	if toName == "" {
		return Path{}, fmt.Errorf("%q names a root directory, not a child", to.Rel)
	}
	toDir, err := checkNotInside(ctx, s, child, toParent)
	if err != nil {
		return Path{}, err
	}
	if from.Rel == "" {
		// A bare cap has no name to unlink: it can only be linked (tahoe ln
		// CAP PATH).
		if !o.Copy {
			return Path{}, fmt.Errorf("%q names a root directory: there is no name to move", from.Root.String()[:min(len(from.Root.String()), 12)]+"…")
		}
		return to, s.Link(ctx, toDir, toName, child, o.Replace)
	}
	fromDir, fromName, err := Parent(ctx, s, from)
	if err != nil {
		return Path{}, err
	}
	if sameObject(fromDir, toDir) && dirnode.Normalize(fromName) == dirnode.Normalize(toName) {
		return to, nil // moving a name onto itself changes nothing
	}
	if err := s.Link(ctx, toDir, toName, child, o.Replace); err != nil {
		return Path{}, err
	}
	if o.Copy {
		return to, nil
	}
	return to, s.Unlink(ctx, fromDir, fromName)
}

// checkNotInside resolves the destination directory dst one name at a time
// and refuses when child (a directory being moved) is dst itself or any
// directory on the way to it.
func checkNotInside(ctx context.Context, s Store, child *caps.Cap, dst Path) (*caps.Cap, error) {
	cur := dst.Root
	inside := func(c *caps.Cap) error {
		if child.IsDirectory() && sameObject(child, c) {
			return fmt.Errorf("cannot move a directory into itself or a directory below it")
		}
		return nil
	}
	if err := inside(cur); err != nil {
		return nil, err
	}
	for _, part := range strings.Split(dst.Rel, "/") {
		if part == "" {
			continue
		}
		next, err := s.Resolve(ctx, cur, part)
		if err != nil {
			return nil, err
		}
		if !next.IsDirectory() {
			return nil, fmt.Errorf("%q: %w", part, ErrNotDirectory)
		}
		if err := inside(next); err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// sameObject reports whether two caps name the same file or directory,
// whatever their authority.
func sameObject(a, b *caps.Cap) bool {
	if a == nil || b == nil {
		return false
	}
	ra, rb := a, b
	if ro := a.ReadOnly(); ro != nil {
		ra = ro
	}
	if ro := b.ReadOnly(); ro != nil {
		rb = ro
	}
	return ra.String() == rb.String()
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
