package copier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"
)

// ErrSkipped is matched (errors.Is) by the error Copy returns when it
// copied everything it could but skipped local items that cannot be
// stored: FIFOs, sockets, devices, dangling links and links that loop.
var ErrSkipped = errors.New("skipped what cannot be stored")

// SkippedError names every local item a Copy skipped, with why.
type SkippedError struct {
	// Items are "path: reason", in the order met.
	Items []string
}

// Error says how many items were skipped and names the first.
func (e *SkippedError) Error() string {
	if len(e.Items) == 1 {
		return "skipped " + e.Items[0]
	}
	return fmt.Sprintf("skipped %d items that cannot be stored (first: %s)", len(e.Items), e.Items[0])
}

// Is makes errors.Is(err, ErrSkipped) true.
func (e *SkippedError) Is(target error) bool { return target == ErrSkipped }

// localChild is an entry of a local directory as cp sees it: symbolic
// links followed, as Tahoe's cp (os.path.isdir/isfile) does.
type localChild struct {
	name string
	path string
	dir  bool
	size int64 // a file's, when it was listed
}

// dirID identifies a directory for loop detection.
type dirID struct{ dev, ino uint64 }

func idOf(st fs.FileInfo) (dirID, bool) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return dirID{uint64(s.Dev), uint64(s.Ino)}, true
	}
	return dirID{}, false
}

// skip records and reports one item that cannot be stored (once per path,
// however many passes meet it).
func (k *Copier) skip(path, why string) {
	if k.warned == nil {
		k.warned = map[string]bool{}
	}
	if k.warned[path] {
		return
	}
	k.warned[path] = true
	item := fmt.Sprintf("%s: %s", path, why)
	k.skipped = append(k.skipped, item)
	if k.Warn != nil {
		k.Warn("skipping " + item)
	}
}

// enterLocal marks dir as being copied (for loop detection); the returned
// function unmarks it. It fails when dir is already being copied further up.
func (k *Copier) enterLocal(dir string) (leave func(), err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err))
	}
	id, ok := idOf(st)
	if !ok {
		return func() {}, nil
	}
	if k.active == nil {
		k.active = map[dirID]bool{}
	}
	if k.active[id] {
		return nil, fmt.Errorf("%s: %w", dir, ErrCycle)
	}
	k.active[id] = true
	return func() { delete(k.active, id) }, nil
}

// readLocalDir lists dir's files and directories, following symbolic
// links, and skips (with a warning each) what cannot be stored: special
// files, dangling links, links that loop, and links to a directory that
// is being copied already (which would make the tree infinite).
func (k *Copier) readLocalDir(dir string) ([]localChild, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err))
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	out := make([]localChild, 0, len(ents))
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !utf8.ValidString(e.Name()) {
			k.skip(p, "name is not UTF-8 (grid names are Unicode)")
			continue
		}
		link := e.Type()&fs.ModeSymlink != 0
		st, err := os.Stat(p)
		switch {
		case err != nil && link && errors.Is(err, fs.ErrNotExist):
			k.skip(p, "dangling symbolic link")
			continue
		case err != nil && link && errors.Is(err, syscall.ELOOP):
			k.skip(p, "symbolic link loop")
			continue
		case err != nil:
			k.skip(p, unwrapPath(err).Error())
			continue
		case st.IsDir():
			if id, ok := idOf(st); ok && k.active[id] {
				k.skip(p, "symbolic link loop (a directory being copied)")
				continue
			}
			out = append(out, localChild{name: e.Name(), path: p, dir: true})
		case st.Mode().IsRegular():
			out = append(out, localChild{name: e.Name(), path: p, size: st.Size()})
		default:
			k.skip(p, kindOf(st.Mode()))
		}
	}
	return out, nil
}

// kindOf names a special file's type.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO, not a regular file"
	case m&fs.ModeSocket != 0:
		return "a socket, not a regular file"
	case m&fs.ModeDevice != 0:
		return "a device, not a regular file"
	}
	return "not a regular file (" + strings.TrimSpace(m.Type().String()) + ")"
}

// localKind classifies a local source or target the way cp does, links
// followed; a special file is an error.
func localKind(name string) (nodeKind, error) {
	st, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return missing, nil // a dangling link too: writing it writes where it points
	case err != nil:
		return missing, err
	case st.IsDir():
		return isDir, nil
	case st.Mode().IsRegular():
		return isFile, nil
	}
	return missing, fmt.Errorf("%s is %s", name, kindOf(st.Mode()))
}
