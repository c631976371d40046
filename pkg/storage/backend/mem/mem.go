// Package mem is an in-memory share backend (backend.Backend) for tests:
// containers and auxiliary objects live in maps, edits are buffered and
// committed atomically with an optimistic version check, as an object
// store's conditional PUT would be.
//
// It keeps nothing across processes and is not meant for real data.
// Containers are kept in 16 KiB pages, so a hole left by a write far past
// the end occupies no memory (as on a sparse file) and reads as zeros.
package mem

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// Options configure a Backend.
type Options struct {
	// Capacity, when positive, is the memory (in pages) the backend's
	// containers may occupy before FreeSpace reports none left (it does
	// not refuse writes: space accounting is the share store's). Zero
	// reports backend.UnknownSpace.
	Capacity int64
}

type key struct {
	si    storage.StorageIndex
	shnum int
}

type object struct {
	data    *pages // never modified once committed: replaced whole
	version uint64
}

// pageSize is the unit in which containers are stored.
const pageSize = 16 << 10

// pages is a sparse byte string: absent pages read as zeros.
type pages struct {
	m    map[int64][]byte
	size int64
}

func newPages() *pages { return &pages{m: map[int64][]byte{}} }

// used is the memory the pages occupy.
func (p *pages) used() int64 { return int64(len(p.m)) * pageSize }

func (p *pages) clone() *pages {
	c := &pages{m: make(map[int64][]byte, len(p.m)), size: p.size}
	for i, pg := range p.m {
		c.m[i] = append([]byte(nil), pg...)
	}
	return c
}

func (p *pages) readAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-off))
	for done := 0; done < n; {
		pos := off + int64(done)
		in := pos % pageSize
		k := int(min(int64(n-done), pageSize-in))
		if pg := p.m[pos/pageSize]; pg != nil {
			copy(b[done:done+k], pg[in:])
		} else {
			clear(b[done : done+k])
		}
		done += k
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (p *pages) writeAt(b []byte, off int64) {
	for done := 0; done < len(b); {
		pos := off + int64(done)
		in := pos % pageSize
		pg := p.m[pos/pageSize]
		if pg == nil {
			pg = make([]byte, pageSize)
			p.m[pos/pageSize] = pg
		}
		done += copy(pg[in:], b[done:])
	}
	p.size = max(p.size, off+int64(len(b)))
}

// Backend is an in-memory backend.Backend.
type Backend struct {
	opts Options

	mu       sync.Mutex
	objects  map[key]*object
	incoming map[key]bool
	aux      map[string][]byte
	locks    backend.Locks
	used     int64
	version  uint64
	closed   bool
}

var _ backend.Backend = (*Backend)(nil)

// New returns an empty backend.
func New(opts Options) *Backend {
	return &Backend{
		opts:     opts,
		objects:  map[key]*object{},
		incoming: map[key]bool{},
		aux:      map[string][]byte{},
	}
}

func (b *Backend) check(ctx context.Context, shnum int) error {
	return backend.CheckShare(ctx, shnum)
}

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context, si storage.StorageIndex, shnum int, sizeHint int64) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, backend.ErrClosed
	}
	k := key{si, shnum}
	if b.incoming[k] {
		return nil, fmt.Errorf("create %s/%d: %w", si, shnum, backend.ErrExist)
	}
	b.incoming[k] = true
	return &writer{b: b, k: k, created: true, data: newPages()}, nil
}

// Open implements backend.Backend.
func (b *Backend) Open(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Reader, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, backend.ErrClosed
	}
	o := b.objects[key{si, shnum}]
	if o == nil {
		return nil, fmt.Errorf("open %s/%d: %w", si, shnum, backend.ErrNotExist)
	}
	return &reader{data: o.data}, nil
}

// Edit implements backend.Backend.
func (b *Backend) Edit(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, backend.ErrClosed
	}
	k := key{si, shnum}
	o := b.objects[k]
	if o == nil {
		return nil, fmt.Errorf("edit %s/%d: %w", si, shnum, backend.ErrNotExist)
	}
	return &writer{b: b, k: k, data: o.data.clone(), seen: o.version}, nil
}

// List implements backend.Backend.
func (b *Backend) List(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int
	for k := range b.objects {
		if k.si == si {
			out = append(out, k.shnum)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Walk implements backend.Backend.
func (b *Backend) Walk(ctx context.Context, fn func(si storage.StorageIndex) error) error {
	b.mu.Lock()
	seen := map[storage.StorageIndex]bool{}
	var sis []storage.StorageIndex
	for k := range b.objects {
		if !seen[k.si] {
			seen[k.si] = true
			sis = append(sis, k.si)
		}
	}
	b.mu.Unlock()
	for _, si := range sis {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(si); err != nil {
			return err
		}
	}
	return nil
}

// Remove implements backend.Backend.
func (b *Backend) Remove(ctx context.Context, si storage.StorageIndex, shnum int) error {
	if err := b.check(ctx, shnum); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := key{si, shnum}
	o := b.objects[k]
	if o == nil {
		return fmt.Errorf("remove %s/%d: %w", si, shnum, backend.ErrNotExist)
	}
	b.used -= o.data.used()
	delete(b.objects, k)
	return nil
}

// Lock implements backend.Backend.
func (b *Backend) Lock(ctx context.Context, si storage.StorageIndex) (func(), error) {
	return b.locks.Lock(ctx, si)
}

// FreeSpace implements backend.Backend.
func (b *Backend) FreeSpace(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if b.opts.Capacity <= 0 {
		return backend.UnknownSpace, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(0, b.opts.Capacity-b.used), nil
}

// PutAux implements backend.Backend.
func (b *Backend) PutAux(ctx context.Context, k string, data []byte) error {
	if err := backend.CheckAuxKey(ctx, k); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.aux[k] = append([]byte(nil), data...)
	return nil
}

// GetAux implements backend.Backend.
func (b *Backend) GetAux(ctx context.Context, k string) ([]byte, error) {
	if err := backend.CheckAuxKey(ctx, k); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.aux[k]
	if !ok {
		return nil, fmt.Errorf("auxiliary object %s: %w", k, backend.ErrNotExist)
	}
	return append([]byte(nil), d...), nil
}

// ListAux implements backend.Backend.
func (b *Backend) ListAux(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k := range b.aux {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// DeleteAux implements backend.Backend.
func (b *Backend) DeleteAux(ctx context.Context, k string) error {
	if err := backend.CheckAuxKey(ctx, k); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.aux, k)
	return nil
}

// AuxKeys lists the auxiliary objects' keys, sorted (for tests).
func (b *Backend) AuxKeys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.aux))
	for k := range b.aux {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close implements backend.Backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

type reader struct{ data *pages }

func (r *reader) Size() int64                             { return r.data.size }
func (r *reader) Close() error                            { return nil }
func (r *reader) ReadAt(p []byte, off int64) (int, error) { return r.data.readAt(p, off) }

// writer buffers a created or edited container.
type writer struct {
	b         *Backend
	k         key
	created   bool
	seen      uint64 // version at Edit
	data      *pages
	mu        sync.Mutex
	committed bool
	closed    bool
}

func (w *writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.data.size
}

func (w *writer) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, backend.ErrClosed
	}
	return w.data.readAt(p, off)
}

func (w *writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := backend.CheckWriteAt(w.closed || w.committed, off); err != nil {
		return 0, err
	}
	w.data.writeAt(p, off)
	return len(p), nil
}

func (w *writer) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.committed {
		return fmt.Errorf("commit after commit or close: %w", backend.ErrClosed)
	}
	b := w.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return backend.ErrClosed
	}
	old := b.objects[w.k]
	switch {
	case w.created && old != nil:
		return fmt.Errorf("commit %s/%d: %w", w.k.si, w.k.shnum, backend.ErrExist)
	case !w.created && (old == nil || old.version != w.seen):
		return fmt.Errorf("commit %s/%d: %w", w.k.si, w.k.shnum, backend.ErrConflict)
	}
	if old != nil {
		b.used -= old.data.used()
	}
	b.version++
	// The writer only reads after Commit, and Edit clones: the pages can
	// be shared.
	b.objects[w.k] = &object{data: w.data, version: b.version}
	b.used += w.data.used()
	if w.created {
		delete(b.incoming, w.k)
	}
	w.committed = true
	return nil
}

func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.created && !w.committed {
		w.b.mu.Lock()
		delete(w.b.incoming, w.k)
		w.b.mu.Unlock()
	}
	w.data = nil
	return nil
}
