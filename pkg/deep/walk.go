// Package deep walks a directory tree of a file store and reports on it
// as Tahoe-LAFS's deep operations do: the manifest (every object's path,
// cap, storage index, verify and repair caps), deep-stats (Tahoe's
// counters and file-size histogram), deep-size, and deep-check (a check,
// or check and repair, of every object, as the walk goes).
//
// The walk visits every object once, in Tahoe's order, whatever links or
// cycles the tree has; directories are read ahead of the walk with a
// bounded number of reads in flight. It works over any filestore.Store;
// checking needs a Checker (the direct store implements it). It does not
// print anything: pkg/health and the command lines format the results.
package deep

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// Node types as Tahoe's deep operations name them.
const (
	TypeDirectory = "directory"
	TypeFile      = "file"
	TypeUnknown   = "unknown"
)

// Node is one object met by a walk.
type Node struct {
	// Path is the names from the root down (empty for the root).
	Path []string
	// Cap is the object's cap as linked: its write cap when the directory
	// holding it gave one, else its read cap. Unknown objects keep their
	// string in Cap.Raw.
	Cap *caps.Cap
	// Type is TypeDirectory, TypeFile or TypeUnknown.
	Type string
	// For directories, once read: the number of children and the size of
	// the directory's contents in bytes (Tahoe's get_size of a directory).
	Children int
	Size     int64
}

// PathString is the path joined with "/".
func (n Node) PathString() string { return strings.Join(n.Path, "/") }

// StorageIndex is the object's storage index in Tahoe's base32 ("" for LIT
// files and unknown objects).
func (n Node) StorageIndex() string {
	if n.Cap == nil || n.Cap.IsUnknown() || len(n.Cap.StorageIndex) == 0 {
		return ""
	}
	return caps.Base32Encode(n.Cap.StorageIndex)
}

// VerifyCap is the object's verify cap ("" for LIT files, LIT directories
// and unknown objects).
func (n Node) VerifyCap() string {
	if n.Cap == nil || n.Cap.IsUnknown() {
		return ""
	}
	if v := n.Cap.Verifier(); v != nil {
		return v.String()
	}
	return ""
}

// RepairCap is the cap a repair needs, as Tahoe gives it: the verify cap
// of an immutable object, the write cap of a mutable one held with write
// authority, "" otherwise.
func (n Node) RepairCap() string {
	if n.Cap == nil || n.Cap.IsUnknown() {
		return ""
	}
	if n.Cap.IsMutable() {
		if n.Cap.IsReadOnly() {
			return ""
		}
		return n.Cap.String()
	}
	return n.VerifyCap()
}

// Options tune a walk.
type Options struct {
	// Parallel bounds the directory reads in flight (default 8).
	Parallel int
}

func (o Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return 8
}

// Visitor receives a walk's objects, one at a time, in Tahoe's order: a
// directory, then its unknown children, its files and its directories (each
// group by name), each directory's subtree before the next.
type Visitor func(ctx context.Context, n Node) error

// listing is a directory read, done ahead of the walk or by it.
type listing struct {
	dir   *caps.Cap
	state int // guarded by walker.mu: 0 queued, 1 taken, 2 done
	done  chan struct{}

	entries []dirnode.Entry
	size    int64
	err     error
}

type walker struct {
	s     filestore.Store
	found map[string]bool // verify caps met so far

	mu    sync.Mutex
	cond  *sync.Cond
	queue []*listing // read-ahead queue; next wanted first
	stop  bool
	ahead chan struct{} // bounds listings read but not yet walked
	reads chan struct{} // bounds directory reads in flight
}

// Walk visits root (a directory or a file cap) and everything reachable
// from it, each object once: an object met again through another link (by
// its verify cap) is skipped, so cycles end. LIT files carry no verify cap
// and are visited every time they are linked, as in Tahoe. A directory
// that cannot be read ends the walk with its error after it was visited.
func Walk(ctx context.Context, s filestore.Store, root *caps.Cap, o Options, visit Visitor) error {
	if root == nil {
		return fmt.Errorf("deep: no root")
	}
	if !root.IsDirectory() {
		return visit(ctx, Node{Cap: root, Type: nodeType(root)})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{s: s, found: map[string]bool{}, ahead: make(chan struct{}, 4*o.parallel()), reads: make(chan struct{}, o.parallel())}
	w.cond = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for range o.parallel() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.readAhead(ctx)
		}()
	}
	defer func() {
		w.mu.Lock()
		w.stop = true
		w.cond.Broadcast()
		w.mu.Unlock()
		cancel()
		wg.Wait()
	}()
	if v := root.Verifier(); v != nil {
		w.found[v.String()] = true
	}
	return w.walkDir(ctx, Node{Cap: root, Type: TypeDirectory}, w.enqueue(root, false), visit)
}

func nodeType(c *caps.Cap) string {
	switch {
	case c.IsUnknown():
		return TypeUnknown
	case c.IsDirectory():
		return TypeDirectory
	}
	return TypeFile
}

// enqueue adds a directory to the read-ahead queue (at the front when
// front: it is wanted soon).
func (w *walker) enqueue(dir *caps.Cap, front bool) *listing {
	l := &listing{dir: dir, done: make(chan struct{})}
	w.mu.Lock()
	if front {
		w.queue = append([]*listing{l}, w.queue...)
	} else {
		w.queue = append(w.queue, l)
	}
	w.cond.Signal()
	w.mu.Unlock()
	return l
}

// enqueueFront adds directories to the front of the queue, in order.
func (w *walker) enqueueFront(dirs []*caps.Cap) []*listing {
	ls := make([]*listing, len(dirs))
	for i, d := range dirs {
		ls[i] = &listing{dir: d, done: make(chan struct{})}
	}
	w.mu.Lock()
	w.queue = append(append([]*listing(nil), ls...), w.queue...)
	w.cond.Broadcast()
	w.mu.Unlock()
	return ls
}

// readAhead reads queued directories until the walk ends, holding at most
// cap(w.ahead) read listings the walk has not consumed.
func (w *walker) readAhead(ctx context.Context) {
	for {
		select {
		case w.ahead <- struct{}{}:
		case <-ctx.Done():
			return
		}
		w.mu.Lock()
		for !w.stop && len(w.queue) == 0 {
			w.cond.Wait()
		}
		if w.stop {
			w.mu.Unlock()
			<-w.ahead
			return
		}
		l := w.queue[0]
		w.queue = w.queue[1:]
		if l.state != 0 {
			w.mu.Unlock()
			<-w.ahead
			continue
		}
		l.state = 1
		w.mu.Unlock()
		w.read(ctx, l)
	}
}

// read lists a directory: its children and the size of its contents.
func (w *walker) read(ctx context.Context, l *listing) {
	defer close(l.done)
	select {
	case w.reads <- struct{}{}:
	case <-ctx.Done():
		l.err = ctx.Err()
		return
	}
	defer func() { <-w.reads }()
	file, err := caps.FileOf(l.dir)
	if err != nil {
		l.err = err
		return
	}
	var buf bytes.Buffer
	if err := w.s.Download(ctx, file, &buf, filestore.DownloadOptions{}); err != nil {
		l.err = fmt.Errorf("reading directory: %w", err)
		return
	}
	l.size = int64(buf.Len())
	l.entries, l.err = dirnode.Parse(buf.Bytes(), l.dir.WriteKey)
}

// await returns a listing, reading it here when no reader has taken it.
func (w *walker) await(ctx context.Context, l *listing) {
	w.mu.Lock()
	mine := l.state == 0
	if mine {
		l.state = 1
	}
	w.mu.Unlock()
	if mine {
		w.read(ctx, l)
		return
	}
	select {
	case <-l.done:
		<-w.ahead // a read-ahead slot is free again
	case <-ctx.Done():
	}
}

type child struct {
	node Node
	l    *listing
}

func (w *walker) walkDir(ctx context.Context, n Node, l *listing, visit Visitor) error {
	w.await(ctx, l)
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.err == nil {
		n.Children, n.Size = len(l.entries), l.size
	}
	if err := visit(ctx, n); err != nil {
		return err
	}
	if l.err != nil {
		return fmt.Errorf("%s: %w", displayPath(n.Path), l.err)
	}
	entries := append([]dirnode.Entry(nil), l.entries...)
	l.entries = nil
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name < entries[b].Name })
	var files, dirs []child
	var dirCaps []*caps.Cap
	for _, e := range entries {
		path := append(append([]string(nil), n.Path...), e.Name)
		c, err := caps.Parse(e.Cap())
		if err != nil || c.IsUnknown() {
			if err != nil {
				c = &caps.Cap{Kind: caps.KindUnknown, Raw: e.Cap()}
			}
			if err := visit(ctx, Node{Path: path, Cap: c, Type: TypeUnknown}); err != nil {
				return err
			}
			continue
		}
		if v := c.Verifier(); v != nil {
			if w.found[v.String()] {
				continue
			}
			w.found[v.String()] = true
		}
		if c.IsDirectory() {
			dirs = append(dirs, child{node: Node{Path: path, Cap: c, Type: TypeDirectory}})
			dirCaps = append(dirCaps, c)
		} else {
			files = append(files, child{node: Node{Path: path, Cap: c, Type: TypeFile}})
		}
	}
	for i, l := range w.enqueueFront(dirCaps) {
		dirs[i].l = l
	}
	for _, f := range files {
		if err := visit(ctx, f.node); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := w.walkDir(ctx, d.node, d.l, visit); err != nil {
			return err
		}
	}
	return nil
}

func displayPath(p []string) string {
	if len(p) == 0 {
		return "<root>"
	}
	return strings.Join(p, "/")
}
