package client

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
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
func (c *Client) Lookup(ctx context.Context, p Path) (*caps.Cap, error) {
	return c.Resolve(ctx, p.Root, p.Rel)
}

// Parent resolves the directory holding a path's last name.
func (c *Client) Parent(ctx context.Context, p Path) (*caps.Cap, string, error) {
	parent, name := p.Split()
	if name == "" {
		return nil, "", fmt.Errorf("%q names a root directory, not a child", p.Rel)
	}
	dir, err := c.Lookup(ctx, parent)
	return dir, name, err
}

// MkdirAll creates the directories of p that do not exist (as mkdir -p)
// and returns the cap of the last.
func (c *Client) MkdirAll(ctx context.Context, p Path, mdmf bool) (*caps.Cap, error) {
	cur := p.Root
	for _, part := range strings.Split(p.Rel, "/") {
		if part == "" {
			continue
		}
		next, err := c.Resolve(ctx, cur, part)
		if err == nil {
			if !next.IsDirectory() {
				return nil, fmt.Errorf("%q exists and is not a directory", part)
			}
			cur = next
			continue
		}
		dir, err := c.Mkdir(ctx, mdmf)
		if err != nil {
			return nil, err
		}
		if err := c.Link(ctx, cur, part, dir, false); err != nil {
			return nil, err
		}
		cur = dir
	}
	return cur, nil
}

// LookupFile resolves a file argument: a file cap as it is, or a path
// ("alias:dir/file", "URI:DIR2:...:./file") to the file it names. A
// directory is an error.
func (c *Client) LookupFile(ctx context.Context, aliases map[string]string, arg string) (*caps.Cap, error) {
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
	if cp, err = c.Lookup(ctx, p); err != nil {
		return nil, err
	}
	if cp.IsDirectory() {
		return nil, fmt.Errorf("%s is a directory", arg)
	}
	return cp, nil
}
