// Package copier copies files and trees between the local file system and
// the grid, and within the grid, for `tahoe cp` and `lafs cp`. Both sides
// are location.Locations. Copy decides what the target is the way Tahoe's
// cp does (src/allmydata/scripts/tahoe_cp.py): a missing target becomes a
// file for one file and a directory otherwise; a file target takes exactly
// one file; a directory target takes each source under its own name, or a
// root directory's contents. A recursive copy into the grid builds each new
// directory with all its children in one publish, uploading the files
// Copier.Parallel at a time (package window); what it reports (Verbose
// lines, each directory's entries) keeps the walk's order, whatever order
// the uploads finish in.
//
// It owns no argument parsing (package location does) and no output of its
// own beyond what Copier.Verbose is told.
package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/internal/window"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// Copier carries out copies.
type Copier struct {
	Store filestore.Store
	// Overwrite replaces existing targets (local files and grid names).
	Overwrite bool
	// CapsOnly writes caps instead of contents into local files.
	CapsOnly bool
	// MissingDirIsCopy makes one directory copied to a missing target
	// become that target (POSIX cp -r, lafs cp). Without it the target is
	// made and the directory copied into it under its own name (Tahoe's
	// cp: "cp -r dir missing" gives missing/dir/...).
	MissingDirIsCopy bool
	// Progress is told about bytes uploaded or downloaded (may be nil). It
	// is called from several goroutines at once.
	Progress func(n int64)
	// FileDone is told of each file copied or skipped (may be nil; called
	// from several goroutines at once).
	FileDone func()
	// Parallel is how many files a tree upload sends at once
	// (window.Default when 0).
	Parallel int
	// Verbose, when set, is told what is being done, a line at a time.
	Verbose func(msg string)
	// Stdout receives a file copied to standard output ("-").
	Stdout io.Writer
	// Update makes a re-run resume (lafs cp --update): a file whose grid
	// target already has the cap the file would get is skipped (CapOf
	// computes it without uploading), a different one is replaced, and
	// one directory copied onto an existing directory merges into it
	// rather than nesting below it.
	Update bool
	// CapOf computes the cap uploading f would give (needed by Update).
	CapOf func(ctx context.Context, f *os.File, size int64) (*caps.Cap, error)
	// Skipped counts the files Update skipped.
	Skipped int

	// Warn, when set, is told of each local item skipped because it cannot
	// be stored (a FIFO, socket or device, a dangling or looping link).
	// Copy then fails with a *SkippedError once the rest is copied.
	Warn func(msg string)

	skipped []string        // this Copy's skipped items
	warned  map[string]bool // paths already reported
	active  map[dirID]bool  // local directories being copied (loops)
}

// Outcome says what a Copy did, in Tahoe's words ("file copied", "file
// linked", "files copied").
type Outcome string

// The outcomes.
const (
	FileCopied  Outcome = "file copied"
	FileLinked  Outcome = "file linked"
	FilesCopied Outcome = "files copied"
)

// Errors of the target rules (Tahoe's messages).
var (
	ErrCycle         = errors.New("copying a directory into itself")
	ErrNeedRecursive = errors.New("cannot copy directories without --recursive")
	ErrTrailingSlash = errors.New("target is not a directory, but ends with a slash")
	ErrMultiToFile   = errors.New("copying multiple things requires target be a directory")
	ErrDirToFile     = errors.New("cannot copy directory into a file")
	ErrCollision     = errors.New("cannot copy multiple files with the same name into the same target directory")
)

// what a location turned out to be.
type nodeKind int

const (
	missing nodeKind = iota
	isFile
	isDir
)

// endpoint is a location and what it is now.
type endpoint struct {
	loc  location.Location
	kind nodeKind
	cap  *caps.Cap // grid only
}

func (k *Copier) progress(n int64) {
	if k.Progress != nil && n > 0 {
		k.Progress(n)
	}
}

func (k *Copier) say(format string, a ...any) {
	if k.Verbose != nil {
		k.Verbose(fmt.Sprintf(format, a...))
	}
}

// stat finds out what a location is.
func (k *Copier) stat(ctx context.Context, l location.Location) (endpoint, error) {
	e := endpoint{loc: l}
	switch l.Kind() {
	case location.Std:
		e.kind = isFile
	case location.Local:
		kind, err := localKind(filepath.Clean(l.LocalName())) // "file/" is the file, as Tahoe's abspath has it
		if err != nil {
			return e, fmt.Errorf("cannot copy %s: %w", l, unwrapPath(err))
		}
		e.kind = kind
	case location.Grid:
		c, err := filestore.Lookup(ctx, k.Store, l.Path())
		switch {
		case errors.Is(err, filestore.ErrNotFound):
		case err != nil:
			return e, err
		case c.IsDirectory():
			e.kind, e.cap = isDir, c
		default:
			e.kind, e.cap = isFile, c
		}
	default:
		return e, errors.New("no location")
	}
	return e, nil
}

// Copy copies srcs to dst by Tahoe's cp rules (see the package comment);
// directories need recursive.
func (k *Copier) Copy(ctx context.Context, srcs []location.Location, dst location.Location, recursive bool) (Outcome, error) {
	k.skipped, k.warned, k.active = nil, nil, nil
	out, err := k.copy(ctx, srcs, dst, recursive)
	if err == nil && len(k.skipped) > 0 {
		return out, &SkippedError{Items: k.skipped}
	}
	return out, err
}

func (k *Copier) copy(ctx context.Context, srcs []location.Location, dst location.Location, recursive bool) (Outcome, error) {
	if len(srcs) == 0 {
		return "", errors.New("nothing to copy")
	}
	target, err := k.stat(ctx, dst)
	if err != nil {
		return "", err
	}
	var sources []endpoint
	dirs := 0
	for _, s := range srcs {
		if s.IsStd() {
			return "", errors.New("cp reads no standard input: upload it with put")
		}
		e, err := k.stat(ctx, s)
		if err != nil {
			return "", err
		}
		switch e.kind {
		case missing:
			return "", fmt.Errorf("No such file or directory '%s'", s)
		case isDir:
			dirs++
		case isFile:
			if s.TrailingSlash() {
				return "", fmt.Errorf("source %s is not a directory, but ends with a slash", s)
			}
		}
		sources = append(sources, e)
	}
	if dirs > 0 && !recursive {
		return "", ErrNeedRecursive
	}
	anyGrid := dst.IsGrid()
	for _, s := range srcs {
		anyGrid = anyGrid || s.IsGrid()
	}
	if !anyGrid {
		return "", errors.New("local to local copies are for cp(1)")
	}
	targetIsFile := target.kind == isFile ||
		(target.kind == missing && len(sources) == 1 && sources[0].kind == isFile)
	switch {
	case targetIsFile && dst.TrailingSlash():
		return "", ErrTrailingSlash
	case targetIsFile && len(sources) > 1:
		return "", ErrMultiToFile
	case targetIsFile && sources[0].kind == isDir:
		return "", ErrDirToFile
	case targetIsFile:
		return k.fileToFile(ctx, sources[0], target)
	case dst.IsStd():
		return "", errors.New("standard output takes one file, not a directory")
	}
	for _, s := range sources {
		if s.kind == isFile && s.loc.Base() == "" {
			return "", fmt.Errorf("when copying into a directory, all source files must have names, but %s is unnamed", s.loc)
		}
	}
	k.say("attaching sources to targets, %d files / %d dirs in root", len(sources)-dirs, dirs)
	if k.MissingDirIsCopy && len(sources) == 1 && (target.kind == missing || (k.Update && target.kind == isDir && sources[0].kind == isDir)) {
		// POSIX: the one directory becomes the target.
		return FilesCopied, k.dirInto(ctx, sources[0], dst)
	}
	if len(sources) > 1 {
		// Only different sources can put two files at one name.
		seen := map[string]bool{}
		for _, s := range sources {
			prefix := s.loc.Base()
			if s.kind == isFile {
				prefix = ""
			}
			if err := k.listFiles(ctx, s, prefix, seen, map[string]bool{}); err != nil {
				return "", err
			}
		}
	}
	if target.kind == missing {
		if err := k.mkdir(ctx, dst); err != nil {
			return "", err
		}
	}
	for _, s := range sources {
		name := s.loc.Base()
		if s.kind == isFile {
			if err := k.copyFile(ctx, s, dst.Join(name)); err != nil {
				return "", err
			}
			continue
		}
		into := dst
		if name != "" {
			into = dst.Join(name) // a named directory gets its own directory
		}
		if err := k.dirInto(ctx, s, into); err != nil {
			return "", err
		}
	}
	return FilesCopied, nil
}

// listFiles records in seen the path, relative to a directory target, of
// every file src puts there (under prefix), and fails with ErrCollision
// when one is already taken: Tahoe's cp refuses to copy two files to one
// name rather than let one overwrite the other.
func (k *Copier) listFiles(ctx context.Context, src endpoint, prefix string, seen, dirs map[string]bool) error {
	if src.kind == isFile {
		rel := path.Join(prefix, src.loc.Base())
		if seen[rel] {
			return fmt.Errorf("%s: %w", rel, ErrCollision)
		}
		seen[rel] = true
		return nil
	}
	if src.loc.IsLocal() {
		leave, err := k.enterLocal(src.loc.LocalName())
		if err != nil {
			return err
		}
		defer leave()
		ents, err := k.readLocalDir(src.loc.LocalName())
		if err != nil {
			return err
		}
		for _, e := range ents {
			child := endpoint{loc: src.loc.Join(e.name), kind: isFile}
			if e.dir {
				child.kind = isDir
				err = k.listFiles(ctx, child, path.Join(prefix, e.name), seen, dirs)
			} else {
				err = k.listFiles(ctx, child, prefix, seen, dirs)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	key := string(src.cap.StorageIndex)
	if dirs[key] {
		return fmt.Errorf("%s: %w", src.loc, ErrCycle)
	}
	dirs[key] = true
	defer delete(dirs, key)
	entries, err := k.Store.ReadDir(ctx, src.cap)
	if err != nil {
		return err
	}
	for _, e := range entries {
		c, err := caps.Parse(e.Cap())
		if err != nil || c.IsUnknown() {
			continue
		}
		child := endpoint{loc: src.loc.Join(e.Name), kind: isFile, cap: c}
		sub := prefix
		if c.IsDirectory() {
			child.kind, sub = isDir, path.Join(prefix, e.Name)
		}
		if err := k.listFiles(ctx, child, sub, seen, dirs); err != nil {
			return err
		}
	}
	return nil
}

// fileToFile copies one file onto a file (or a missing name).
func (k *Copier) fileToFile(ctx context.Context, src, dst endpoint) (Outcome, error) {
	if err := k.copyFile(ctx, src, dst.loc); err != nil {
		return "", err
	}
	if src.loc.IsGrid() && dst.loc.IsGrid() && !src.cap.IsMutable() {
		return FileLinked, nil
	}
	return FileCopied, nil
}

// mkdir makes a missing target directory (and what is missing above it).
func (k *Copier) mkdir(ctx context.Context, dst location.Location) error {
	if dst.IsLocal() {
		return os.MkdirAll(dst.LocalName(), 0o755)
	}
	_, err := filestore.MkdirAll(ctx, k.Store, dst.Path(), filestore.FormatSDMF)
	return err
}

// copyFile copies one file source to dst, a file's place.
func (k *Copier) copyFile(ctx context.Context, src endpoint, dst location.Location) error {
	if err := k.copyOneFile(ctx, src, dst); err != nil {
		return err
	}
	k.fileDone()
	return nil
}

func (k *Copier) copyOneFile(ctx context.Context, src endpoint, dst location.Location) error {
	k.say("%s -> %s", src.loc, dst)
	switch {
	case src.loc.IsLocal() && dst.IsGrid():
		f, err := os.Open(src.loc.LocalName())
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", src.loc, unwrapPath(err))
		}
		defer f.Close()
		return k.storeBytes(ctx, f, src.loc.String(), dst.Path())
	case src.loc.IsGrid() && dst.IsGrid() && src.cap.IsMutable():
		// A mutable file's bytes are copied (Tahoe's cp): linking its cap
		// would make the copy and the original one file.
		tmp, err := os.CreateTemp("", "lafs-cp-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := k.Store.Download(ctx, src.cap, tmp, filestore.DownloadOptions{}); err != nil {
			return fmt.Errorf("reading %s: %w", src.loc, err)
		}
		return k.storeBytes(ctx, tmp, src.loc.String(), dst.Path())
	case src.loc.IsGrid() && dst.IsGrid():
		// An immutable file is linked: the same cap, no bytes moved.
		if k.Update {
			if c, err := filestore.Lookup(ctx, k.Store, dst.Path()); err == nil && c.String() == src.cap.String() {
				k.Skipped++
				return nil
			}
		}
		return k.link(ctx, dst.Path(), src.cap)
	case src.loc.IsGrid() && dst.IsStd():
		return k.Store.Download(ctx, src.cap, counter{k.stdout(), k.progress}, filestore.DownloadOptions{})
	case src.loc.IsGrid() && dst.IsLocal():
		return k.downloadFile(ctx, src.cap, dst.LocalName())
	}
	return errors.New("local to local copies are for cp(1)")
}

// storeBytes puts the contents of f at p: in place when p is a mutable
// file we may write and Overwrite allows it (Tahoe's cp and web API PUT),
// else as a new immutable file linked there.
func (k *Copier) storeBytes(ctx context.Context, f *os.File, name string, p filestore.Path) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if k.Overwrite {
		if c, err := filestore.Lookup(ctx, k.Store, p); err == nil && c.IsMutable() && !c.IsDirectory() && !c.IsReadOnly() {
			if st.Size() > maxMutableSize {
				return fmt.Errorf("%s: mutable files are limited to %d bytes here", name, maxMutableSize)
			}
			data := make([]byte, st.Size())
			if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("cannot read %s: %w", name, err)
			}
			k.progress(int64(len(data)))
			return k.Store.OverwriteMutable(ctx, c, data)
		}
	}
	if k.Update && k.CapOf != nil {
		if have, err := filestore.Lookup(ctx, k.Store, p); err == nil && !have.IsDirectory() {
			want, err := k.CapOf(ctx, f, st.Size())
			if err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			if want.String() == have.String() {
				k.Skipped++
				k.progress(st.Size())
				return nil
			}
		}
	}
	var last int64
	res, err := k.Store.Upload(ctx, f, st.Size(), filestore.UploadOptions{Progress: func(n int64) { k.progress(n - last); last = n }})
	if err != nil {
		return fmt.Errorf("uploading %s: %w", name, err)
	}
	return k.link(ctx, p, res.Cap)
}

// maxMutableSize bounds a mutable file held in memory while publishing.
const maxMutableSize = 1 << 30

func (k *Copier) stdout() io.Writer {
	if k.Stdout == nil {
		return io.Discard
	}
	return k.Stdout
}

// link links c at p, making missing directories above it.
func (k *Copier) link(ctx context.Context, p filestore.Path, c *caps.Cap) error {
	parent, name := p.Split()
	if name == "" {
		return fmt.Errorf("cannot replace a root directory")
	}
	dir, err := filestore.MkdirAll(ctx, k.Store, parent, filestore.FormatSDMF)
	if err != nil {
		return err
	}
	return k.Store.Link(ctx, dir, name, c, k.Overwrite || k.Update)
}

// dirInto copies the contents of the directory src into the directory
// dst, making it when it is missing and merging into it when it exists.
func (k *Copier) dirInto(ctx context.Context, src endpoint, dst location.Location) error {
	here, err := k.stat(ctx, dst)
	if err != nil {
		return err
	}
	if here.kind == isFile {
		if !k.Overwrite {
			return fmt.Errorf("%s: %w", dst, filestore.ErrExists)
		}
		if dst.IsLocal() {
			return fmt.Errorf("%s is a file, not a directory", dst)
		}
		here.kind = missing // a grid name is simply replaced
	}
	switch {
	case src.loc.IsLocal() && dst.IsGrid():
		if here.kind == missing {
			c, err := k.uploadTree(ctx, src.loc.LocalName())
			if err != nil {
				return err
			}
			return k.link(ctx, dst.Path(), c)
		}
		leave, err := k.enterLocal(src.loc.LocalName())
		if err != nil {
			return err
		}
		defer leave()
		ents, err := k.readLocalDir(src.loc.LocalName())
		if err != nil {
			return err
		}
		for _, e := range ents {
			child := src.loc.Join(e.name)
			if e.dir {
				err = k.dirInto(ctx, endpoint{loc: child, kind: isDir}, dst.Join(e.name))
			} else {
				err = k.copyFile(ctx, endpoint{loc: child, kind: isFile}, dst.Join(e.name))
			}
			if err != nil {
				return err
			}
		}
		return nil
	case src.loc.IsGrid() && dst.IsGrid():
		if err := k.checkCycle(ctx, src.cap, dst.Path()); err != nil {
			return err
		}
		if here.kind == missing {
			c, err := k.copyGridTree(ctx, src, map[string]bool{})
			if err != nil {
				return err
			}
			return k.link(ctx, dst.Path(), c)
		}
		entries, err := k.Store.ReadDir(ctx, src.cap)
		if err != nil {
			return err
		}
		for _, e := range entries {
			c, err := caps.Parse(e.Cap())
			if err != nil || c.IsUnknown() {
				continue
			}
			child := endpoint{loc: src.loc.Join(e.Name), kind: isFile, cap: c}
			if c.IsDirectory() {
				child.kind = isDir
				err = k.dirInto(ctx, child, dst.Join(e.Name))
			} else {
				err = k.copyFile(ctx, child, dst.Join(e.Name))
			}
			if err != nil {
				return err
			}
		}
		return nil
	case src.loc.IsGrid() && dst.IsLocal():
		return k.downloadTree(ctx, src.cap, dst.LocalName(), map[string]bool{})
	}
	return errors.New("local to local copies are for cp(1)")
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
	res, err := k.Store.Upload(ctx, f, st.Size(), filestore.UploadOptions{Progress: func(n int64) { k.progress(n - last); last = n }})
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", path, err)
	}
	k.fileDone()
	return res.Cap, nil
}

func (k *Copier) fileDone() {
	if k.FileDone != nil {
		k.FileDone()
	}
}

// uploadTree uploads a local directory and returns the new directory's
// cap: files first, then one publish of the directory with every child.
// Files upload k.Parallel at a time (window.Default when unset), large
// ones fewer, within the window's memory budget (window.GoSized), and each
// directory is made once its children are done, while the walk goes on
// submitting the files after it; the walk, its verbose lines and each
// directory's entries keep the walk's order, whatever order the uploads
// finish in.
func (k *Copier) uploadTree(ctx context.Context, dir string) (*caps.Cap, error) {
	w := window.New(ctx, k.Parallel)
	root, walkErr := k.submitTree(w, dir)
	var c *caps.Cap
	var err error
	if walkErr == nil {
		c, err = root.Wait()
	}
	if walkErr != nil {
		w.Cancel()
	}
	closeErr := w.Close()
	switch {
	case walkErr != nil:
		return nil, walkErr
	case closeErr != nil:
		return nil, closeErr // the first failure, not the cancellations after it
	}
	return c, err
}

// submitTree walks dir in the caller's goroutine (the loop and skip
// bookkeeping are not shared), submitting each file's upload to w and
// the directory's publish after them.
func (k *Copier) submitTree(w *window.Window, dir string) (*window.Result[*caps.Cap], error) {
	leave, err := k.enterLocal(dir)
	if err != nil {
		return nil, err
	}
	defer leave()
	ents, err := k.readLocalDir(dir)
	if err != nil {
		return nil, err
	}
	kids := make([]*window.Result[*caps.Cap], 0, len(ents))
	deps := make([]window.Waiter, 0, len(ents))
	for _, e := range ents {
		var child *window.Result[*caps.Cap]
		if e.dir {
			if child, err = k.submitTree(w, e.path); err != nil {
				return nil, err
			}
		} else {
			k.say("%s -> (new directory)", e.path)
			child = window.GoSized(w, window.UploadMemory(e.size), func(ctx context.Context) (*caps.Cap, error) { return k.uploadFile(ctx, e.path) })
		}
		kids, deps = append(kids, child), append(deps, child)
	}
	return window.After(w, deps, func(ctx context.Context) (*caps.Cap, error) {
		children := make([]dirnode.Entry, 0, len(ents))
		for i, e := range ents {
			c, err := kids[i].Wait()
			if err != nil {
				return nil, err
			}
			children = append(children, client.EntryFor(e.name, c))
		}
		return k.Store.Mkdir(ctx, filestore.MkdirOptions{Children: children})
	}), nil
}

// copyGridTree copies a grid directory into a new one and returns its cap:
// new directories all the way down (so the copy and the original change
// apart, as with Tahoe's cp), immutable files and immutable directories
// linked as they are, mutable files copied as new immutable ones.
func (k *Copier) copyGridTree(ctx context.Context, src endpoint, seen map[string]bool) (*caps.Cap, error) {
	if !src.cap.IsMutable() {
		return src.cap, nil // deeply immutable: sharing it is a copy
	}
	key := string(src.cap.StorageIndex)
	if seen[key] {
		return nil, fmt.Errorf("%s: %w", src.loc, ErrCycle)
	}
	seen[key] = true
	defer delete(seen, key)
	entries, err := k.Store.ReadDir(ctx, src.cap)
	if err != nil {
		return nil, err
	}
	children := make([]dirnode.Entry, 0, len(entries))
	for _, e := range entries {
		c, err := caps.Parse(e.Cap())
		switch {
		case err != nil || c.IsUnknown():
			children = append(children, dirnode.Entry{Name: e.Name, ROCap: e.ROCap, RWCap: e.RWCap})
			continue
		case c.IsDirectory():
			c, err = k.copyGridTree(ctx, endpoint{loc: src.loc.Join(e.Name), kind: isDir, cap: c}, seen)
		case c.IsMutable():
			c, err = k.copyMutableBytes(ctx, c)
		}
		if err != nil {
			return nil, err
		}
		children = append(children, client.EntryFor(e.Name, c))
	}
	return k.Store.Mkdir(ctx, filestore.MkdirOptions{Children: children})
}

// copyMutableBytes stores a mutable file's current contents as a new
// immutable file.
func (k *Copier) copyMutableBytes(ctx context.Context, c *caps.Cap) (*caps.Cap, error) {
	tmp, err := os.CreateTemp("", "lafs-cp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := k.Store.Download(ctx, c, tmp, filestore.DownloadOptions{}); err != nil {
		return nil, err
	}
	size, err := tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	res, err := k.Store.Upload(ctx, tmp, size, filestore.UploadOptions{})
	if err != nil {
		return nil, err
	}
	return res.Cap, nil
}

// checkCycle refuses to link dir anywhere below itself.
func (k *Copier) checkCycle(ctx context.Context, dir *caps.Cap, dst filestore.Path) error {
	cur := dst.Root
	for _, part := range append([]string{""}, strings.Split(dst.Rel, "/")...) {
		if part != "" {
			next, err := k.Store.Resolve(ctx, cur, part)
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
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := safefile.Create(target, k.Overwrite)
	if err != nil {
		return err
	}
	if k.CapsOnly {
		_, err = fmt.Fprintln(out, c.String())
	} else {
		err = k.Store.Download(ctx, c, counter{out, k.progress}, filestore.DownloadOptions{})
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
	entries, err := k.Store.ReadDir(ctx, dir)
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
			k.say("%s -> %s", e.Name, path)
			if err = k.downloadFile(ctx, c, path); err == nil {
				k.fileDone()
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// counter passes writes through and reports their size.
type counter struct {
	w io.Writer
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
	size, _ := TreeStats(path)
	return size
}

// TreeStats is the total size and the number of the regular files under
// path (path itself when it is one).
func TreeStats(path string) (size int64, files int) {
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
				files++
			}
		}
		return nil
	})
	return size, files
}
