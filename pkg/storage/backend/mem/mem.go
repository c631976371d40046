// Package mem is an in-memory share backend (backend.Backend) for tests:
// containers and auxiliary objects live in maps, edits are buffered and
// committed atomically with an optimistic version check, as an object
// store's conditional PUT would be.
//
// It keeps nothing across processes and is not meant for real data; holes
// left by writes past the end are stored as zeros.
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
	// Capacity, when positive, is the total bytes of containers the
	// backend holds before FreeSpace reports none left (it does not refuse
	// writes: space accounting is the share store's). Zero reports
	// backend.UnknownSpace.
	Capacity int64
}

type key struct {
	si    storage.StorageIndex
	shnum int
}

type object struct {
	data    []byte // never modified once committed: replaced whole
	version uint64
}

// Backend is an in-memory backend.Backend.
type Backend struct {
	opts Options

	mu       sync.Mutex
	objects  map[key]*object
	incoming map[key]bool
	aux      map[string][]byte
	locks    map[storage.StorageIndex]chan struct{}
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
		locks:    map[storage.StorageIndex]chan struct{}{},
	}
}

func (b *Backend) check(ctx context.Context, shnum int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !backend.ValidShareNumber(shnum) {
		return fmt.Errorf("share number %d out of range", shnum)
	}
	return nil
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
	return &writer{b: b, k: k, created: true}, nil
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
	return &writer{b: b, k: k, data: append([]byte(nil), o.data...), seen: o.version}, nil
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
	b.used -= int64(len(o.data))
	delete(b.objects, k)
	return nil
}

// Lock implements backend.Backend.
func (b *Backend) Lock(ctx context.Context, si storage.StorageIndex) (func(), error) {
	for {
		b.mu.Lock()
		ch, held := b.locks[si]
		if !held {
			ch = make(chan struct{})
			b.locks[si] = ch
			b.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					b.mu.Lock()
					delete(b.locks, si)
					b.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", si, ctx.Err())
		}
	}
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
	if err := ctx.Err(); err != nil {
		return err
	}
	if !backend.ValidAuxKey(k) {
		return fmt.Errorf("auxiliary object key %q is not valid", k)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.aux[k] = append([]byte(nil), data...)
	return nil
}

// GetAux implements backend.Backend.
func (b *Backend) GetAux(ctx context.Context, k string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !backend.ValidAuxKey(k) {
		return nil, fmt.Errorf("auxiliary object key %q is not valid", k)
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
	if err := ctx.Err(); err != nil {
		return err
	}
	if !backend.ValidAuxKey(k) {
		return fmt.Errorf("auxiliary object key %q is not valid", k)
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

type reader struct{ data []byte }

func (r *reader) Size() int64  { return int64(len(r.data)) }
func (r *reader) Close() error { return nil }
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	return readAt(r.data, p, off)
}

func readAt(data, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// writer buffers a created or edited container.
type writer struct {
	b         *Backend
	k         key
	created   bool
	seen      uint64 // version at Edit
	data      []byte
	mu        sync.Mutex
	committed bool
	closed    bool
}

func (w *writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return int64(len(w.data))
}

func (w *writer) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, backend.ErrClosed
	}
	return readAt(w.data, p, off)
}

func (w *writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.committed {
		return 0, fmt.Errorf("write after commit or close: %w", backend.ErrClosed)
	}
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if end := off + int64(len(p)); end > int64(len(w.data)) {
		if end > int64(cap(w.data)) {
			grown := make([]byte, end, max(end, 2*int64(cap(w.data))))
			copy(grown, w.data)
			w.data = grown
		} else {
			w.data = w.data[:end]
		}
	}
	return copy(w.data[off:], p), nil
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
		b.used -= int64(len(old.data))
	}
	b.version++
	data := append([]byte(nil), w.data...)
	b.objects[w.k] = &object{data: data, version: b.version}
	b.used += int64(len(data))
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
