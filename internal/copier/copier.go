// Package copier copies files and trees between the local file system and
// the grid, and within the grid, for `tahoe cp` and `lafs cp`. Both sides
// are Locations; a recursive copy into the grid builds each directory with
// all its children in one publish.
package copier

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// Location is one side of a copy: a local path or a grid path.
type Location struct {
	Local string
	Grid  *filestore.Path
}

func (l Location) String() string {
	if l.Grid != nil {
		return l.Grid.Rel
	}
	return l.Local
}

// Copier carries out copies.
type Copier struct {
	Client filestore.Store
	// Overwrite replaces existing targets (local files and grid names).
	Overwrite bool
	// CapsOnly writes caps instead of contents into local files.
	CapsOnly bool
	// Progress is told about bytes uploaded or downloaded (may be nil).
	Progress func(n int64)
}

// ErrCycle is returned when a recursive grid copy would copy a directory
// into itself.
var ErrCycle = errors.New("copying a directory into itself")

func (k *Copier) progress(n int64) {
	if k.Progress != nil && n > 0 {
		k.Progress(n)
	}
}

// Copy copies src to dst. Directories need recursive. When dst is an
// existing directory, src is copied into it under its own name.
func (k *Copier) Copy(ctx context.Context, src, dst Location, recursive bool) error {
	if src.Grid != nil {
		return k.fromGrid(ctx, src, dst, recursive)
	}
	st, err := os.Stat(src.Local)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", src.Local, unwrapPath(err))
	}
	if st.IsDir() && !recursive {
		return fmt.Errorf("%s is a directory (use -r)", src.Local)
	}
	if dst.Grid == nil {
		return errors.New("local to local copies are for cp(1)")
	}
	name := filepath.Base(filepath.Clean(src.Local))
	var child *caps.Cap
	if st.IsDir() {
		child, err = k.uploadTree(ctx, src.Local)
	} else {
		child, err = k.uploadFile(ctx, src.Local)
	}
	if err != nil {
		return err
	}
	return k.linkInto(ctx, *dst.Grid, name, child)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// linkInto links child at dst, or inside dst under name when dst is a
// directory (or names a root).
func (k *Copier) linkInto(ctx context.Context, dst filestore.Path, name string, child *caps.Cap) error {
	target := dst
	if existing, err := filestore.Lookup(ctx, k.Client, dst); err == nil && existing.IsDirectory() && !(child.IsDirectory() && existing.String() == child.String()) {
		target = dst.Join(name)
	}
	dir, leaf, err := filestore.Parent(ctx, k.Client, target)
	if err != nil {
		return err
	}
	return k.Client.Link(ctx, dir, leaf, child, k.Overwrite)
}

func (k *Copier) uploadFile(ctx context.Context, path string) (*caps.Cap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var last int64
	res, err := k.Client.Upload(ctx, f, st.Size(), filestore.UploadOptions{Progress: func(n int64) { k.progress(n - last); last = n }})
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", path, err)
	}
	return res.Cap, nil
}

// uploadTree uploads a local directory and returns the new directory's
// cap: files first, then one publish of the directory with every child.
func (k *Copier) uploadTree(ctx context.Context, dir string) (*caps.Cap, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err))
	}
	var children []dirnode.Entry
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		var child *caps.Cap
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			continue // symlinks are not followed: no loops, no surprises
		case e.IsDir():
			child, err = k.uploadTree(ctx, path)
		case e.Type().IsRegular():
			child, err = k.uploadFile(ctx, path)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		children = append(children, client.EntryFor(e.Name(), child))
	}
	return k.Client.Mkdir(ctx, filestore.MkdirOptions{Children: children})
}

func (k *Copier) fromGrid(ctx context.Context, src, dst Location, recursive bool) error {
	c, err := filestore.Lookup(ctx, k.Client, *src.Grid)
	if err != nil {
		return err
	}
	_, name := src.Grid.Split()
	if name == "" {
		name = "root"
	}
	if c.IsDirectory() && !recursive {
		return fmt.Errorf("%s is a directory (use -r)", src)
	}
	if dst.Grid != nil {
		// Within the grid, copying links the same caps; a directory copied
		// into itself would loop.
		if c.IsDirectory() {
			if err := k.checkCycle(ctx, c, *dst.Grid); err != nil {
				return err
			}
		}
		return k.linkInto(ctx, *dst.Grid, name, c)
	}
	target := dst.Local
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		target = filepath.Join(target, name)
	}
	if c.IsDirectory() {
		return k.downloadTree(ctx, c, target, map[string]bool{})
	}
	return k.downloadFile(ctx, c, target)
}

// checkCycle refuses to link dir anywhere below itself.
func (k *Copier) checkCycle(ctx context.Context, dir *caps.Cap, dst filestore.Path) error {
	cur := dst.Root
	for _, part := range append([]string{""}, strings.Split(dst.Rel, "/")...) {
		if part != "" {
			next, err := k.Client.Resolve(ctx, cur, part)
			if err != nil {
				return nil // the rest will be created: no cycle through it
			}
			cur = next
		}
		if cur.StorageIndex != nil && string(cur.StorageIndex) == string(dir.StorageIndex) {
			return ErrCycle
		}
	}
	return nil
}

func (k *Copier) downloadFile(ctx context.Context, c *caps.Cap, target string) error {
	out, err := safefile.Create(target, k.Overwrite)
	if err != nil {
		return err
	}
	if k.CapsOnly {
		_, err = fmt.Fprintln(out, c.String())
	} else {
		err = k.Client.Download(ctx, c, counter{out, k.progress}, filestore.DownloadOptions{})
	}
	if err != nil {
		out.Abort()
		return err
	}
	return out.Commit()
}

func (k *Copier) downloadTree(ctx context.Context, dir *caps.Cap, target string, seen map[string]bool) error {
	key := string(dir.StorageIndex)
	if seen[key] {
		return fmt.Errorf("%s: %w", target, ErrCycle)
	}
	seen[key] = true
	defer delete(seen, key)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	entries, err := k.Client.ReadDir(ctx, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := dirnode.CheckName(e.Name); err != nil || e.Name == "." || e.Name == ".." {
			return fmt.Errorf("refusing child name %q", e.Name)
		}
		c, err := caps.Parse(e.Cap())
		if err != nil || c.IsUnknown() {
			continue
		}
		path := filepath.Join(target, e.Name)
		if c.IsDirectory() {
			err = k.downloadTree(ctx, c, path, seen)
		} else {
			err = k.downloadFile(ctx, c, path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// counter passes writes through and reports their size.
type counter struct {
	w interface{ Write([]byte) (int, error) }
	f func(int64)
}

func (c counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.f(int64(n))
	return n, err
}

// TreeSize is the total size of the regular files under path (for a
// progress bar over a whole tree).
func TreeSize(path string) int64 {
	var total int64
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// ParseLocation reads a cp argument as Tahoe does: "alias:path" with a
// known alias, or a cap path, is in the grid; anything else is local.
func ParseLocation(aliases map[string]string, arg string) (Location, error) {
	if strings.HasPrefix(arg, "URI:") || strings.HasPrefix(arg, "ro.URI:") || strings.HasPrefix(arg, "imm.URI:") {
		p, err := filestore.ParsePath(aliases, arg)
		return Location{Grid: &p}, err
	}
	if i := strings.Index(arg, ":"); i > 0 && !strings.Contains(arg[:i], "/") {
		if _, ok := aliases[arg[:i]]; ok {
			p, err := filestore.ParsePath(aliases, arg)
			return Location{Grid: &p}, err
		}
	}
	return Location{Local: arg}, nil
}
