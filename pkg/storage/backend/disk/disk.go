// Package disk is the share backend on a local POSIX file system, in
// Tahoe-LAFS's on-disk layout, so Tahoe's storage server and ours can serve
// the same directory:
//
//	DIR/shares/<first 2 chars of SI>/<SI>/<share number>   committed containers
//	DIR/shares/incoming/<SI>.<share number>                containers being created
//	DIR/<key>                                              auxiliary objects (corruption-advisories/...)
//
// A created container is written under incoming/ and published by Commit:
// fsync, a no-replace rename into shares/ (renameat2; elsewhere a
// no-replace link and removal of the incoming name) and an fsync of the
// bucket directory, so a crash leaves either no share or the whole share.
// Incoming names are flat (Tahoe nests them like shares/), so an upload
// makes and removes no directory there; a new bucket costs one mkdir.
// While a container is written, write-back of every few MiB is started at
// once (sync_file_range on Linux), so the disk works during the upload and
// Commit's fsync finds little left to do. Edits are applied in place and
// Commit fsyncs them (Tahoe's semantics). The incoming/ directory is held
// with a shared flock while the backend is open; Open clears leftover
// uploads (in either layout) only when it can take the lock exclusively
// (no other process has the store open). Each incoming container is
// flocked by its writer until Close, so Create can also tell the leftover
// of a writer that died (unlocked: removed and created anew) from a live
// upload (ErrExist) while other processes hold the store. Lock combines an
// in-process lock with an flock on the bucket directory.
//
// It knows nothing of container formats, leases or space accounting
// (pkg/storage/shares); FreeSpace is statfs's.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// Backend is a backend.Backend over a directory.
type Backend struct {
	dir string

	mu       sync.Mutex
	incoming *os.File // shares/incoming, held with a shared flock
	locks    backend.Locks
}

var _ backend.Backend = (*Backend)(nil)

// Open opens (creating if needed) the store rooted at dir. Like Tahoe, it
// removes uploads left in incoming/ by a previous run, but only when no
// other process has the store open (several CLI processes may share an
// embedded local grid). Close releases it.
func Open(dir string) (*Backend, error) {
	b := &Backend{dir: dir}
	if err := os.MkdirAll(b.incomingDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create share store: %w", err)
	}
	f, err := os.Open(b.incomingDir())
	if err != nil {
		return nil, fmt.Errorf("open share store: %w", err)
	}
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		ents, err := f.ReadDir(-1)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("clean incoming shares: %w", err)
		}
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(b.incomingDir(), e.Name())); err != nil {
				f.Close()
				return nil, fmt.Errorf("clean incoming shares: %w", err)
			}
		}
	case errors.Is(err, syscall.EWOULDBLOCK):
		// Another process is using the store: leave its uploads alone.
	default:
		f.Close()
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	b.incoming = f
	return b, nil
}

// Dir is the storage directory.
func (b *Backend) Dir() string { return b.dir }

// Close releases the store's lock.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.incoming == nil {
		return nil
	}
	err := b.incoming.Close()
	b.incoming = nil
	return err
}

func (b *Backend) sharesDir() string   { return filepath.Join(b.dir, "shares") }
func (b *Backend) incomingDir() string { return filepath.Join(b.dir, "shares", "incoming") }

func siDir(si storage.StorageIndex) string {
	return filepath.FromSlash(backend.BucketPath(si))
}

// BucketDir is the directory holding the committed containers of si.
func (b *Backend) BucketDir(si storage.StorageIndex) string {
	return filepath.Join(b.sharesDir(), siDir(si))
}

// SharePath is where share shnum of si lives once committed.
func (b *Backend) SharePath(si storage.StorageIndex, shnum int) string {
	return filepath.Join(b.BucketDir(si), strconv.Itoa(shnum))
}

// IncomingPath is where share shnum of si is written before Commit:
// incoming/<SI>.<shnum>, one flat directory (Tahoe nests it like shares/,
// but nothing reads incoming files except their writer, and a flat name
// spares two directories made and removed per upload).
func (b *Backend) IncomingPath(si storage.StorageIndex, shnum int) string {
	return filepath.Join(b.incomingDir(), si.String()+"."+strconv.Itoa(shnum))
}

func (b *Backend) check(ctx context.Context, shnum int) error {
	if err := backend.CheckShare(ctx, shnum); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.incoming == nil
	b.mu.Unlock()
	if closed {
		return backend.ErrClosed
	}
	return nil
}

// Create implements backend.Backend: the container is created (O_EXCL)
// under incoming/, so a second writer of the same share, in any process
// sharing the directory, gets ErrExist. Incoming names are flat
// (incoming/<SI>.<share number>): no directory is made or removed per
// upload.
func (b *Backend) Create(ctx context.Context, si storage.StorageIndex, shnum int, sizeHint int64) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	inc := b.IncomingPath(si, shnum)
	for attempt := 0; ; attempt++ {
		f, err := createLocked(inc)
		if err == nil {
			if sizeHint >= preallocateFrom {
				preallocate(f, sizeHint)
			}
			return &writer{f: f, incoming: inc, final: b.SharePath(si, shnum)}, nil
		}
		if errors.Is(err, fs.ErrExist) && attempt < 100 && removeAbandoned(inc) {
			continue
		}
		if errors.Is(err, fs.ErrNotExist) && attempt == 0 {
			// incoming/ itself was removed behind our back: make it again.
			if merr := os.MkdirAll(b.incomingDir(), 0o755); merr == nil {
				continue
			}
		}
		return nil, fmt.Errorf("create share container: %w", err)
	}
}

// preallocateFrom is the size hint from which Create reserves a
// container's disk space up front: below it the extra system call costs
// more than it saves. (The hint of an immutable container is its exact
// final size, and an abandoned one is removed, so nothing reserved is
// left unused.)
const preallocateFrom = 1 << 20

// createLocked creates the file inc, failing with fs.ErrExist when it
// exists, and returns it open and flocked. The writer holds the lock for
// as long as it lives, so another opener can tell a live upload from the
// leftover of a process that died (removeAbandoned). The file is made and
// locked under a temporary name and then linked into place (a link never
// replaces), so no one ever sees it at inc unlocked. (Plain system calls:
// os.OpenFile would also try the descriptor with the poller, four calls
// for nothing. Linux's O_TMPFILE would spare the temporary name, but costs
// far more CPU on ext4 under concurrent creates: measured.)
func createLocked(inc string) (*os.File, error) {
	dir := filepath.Dir(inc)
	var tmp string
	var fd int
	for attempt := 0; ; attempt++ {
		tmp = filepath.Join(dir, ".new-"+strconv.FormatUint(rand.Uint64(), 36))
		var err error
		fd, err = syscall.Open(tmp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
		if err == nil {
			break
		}
		if errors.Is(err, syscall.EEXIST) && attempt < 100 {
			continue
		}
		return nil, &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	defer syscall.Unlink(tmp)
	fail := func(op string, err error) (*os.File, error) {
		syscall.Close(fd)
		return nil, &os.PathError{Op: op, Path: inc, Err: err}
	}
	// Exactly 0644, whatever the umask.
	if err := syscall.Fchmod(fd, 0o644); err != nil {
		return fail("chmod", err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail("lock incoming share", err)
	}
	if err := syscall.Link(tmp, inc); err != nil {
		return fail("link", err)
	}
	return os.NewFile(uintptr(fd), inc), nil
}

// removeAbandoned removes the incoming file inc when no writer holds it
// (its writer died) and reports whether it did. A live writer holds its
// incoming file locked from Create to Close.
func removeAbandoned(inc string) bool {
	f, err := os.Open(inc)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) // gone meanwhile: create again
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // a live writer
	}
	// Locked: remove it only if the name still means this file. A writer
	// unlinks before it unlocks, so holding the lock on the file the name
	// means proves no writer has it.
	held, err1 := f.Stat()
	cur, err2 := os.Stat(inc)
	if err1 != nil || err2 != nil || !os.SameFile(held, cur) {
		return err2 != nil && errors.Is(err2, fs.ErrNotExist)
	}
	return os.Remove(inc) == nil
}

// Open implements backend.Backend.
func (b *Backend) Open(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Reader, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	f, err := os.Open(b.SharePath(si, shnum))
	if err != nil {
		return nil, fmt.Errorf("open share container: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat share container: %w", err)
	}
	return &reader{f: f, size: st.Size()}, nil
}

// Edit implements backend.Backend: writes go to the file in place.
func (b *Backend) Edit(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(b.SharePath(si, shnum), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open share container: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat share container: %w", err)
	}
	return &writer{f: f, size: st.Size(), edit: true}, nil
}

// List implements backend.Backend.
func (b *Backend) List(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(b.BucketDir(si))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list shares of %s: %w", si, err)
	}
	var out []int
	for _, e := range ents {
		if n, ok := backend.ParseShareNumber(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Walk implements backend.Backend: every storage index with a bucket
// directory (an emptied bucket may linger until its lock is released).
func (b *Backend) Walk(ctx context.Context, fn func(si storage.StorageIndex) error) error {
	prefixes, err := os.ReadDir(b.sharesDir())
	if err != nil {
		return fmt.Errorf("walk share store: %w", err)
	}
	for _, p := range prefixes {
		if !p.IsDir() || len(p.Name()) != 2 {
			continue
		}
		buckets, err := os.ReadDir(filepath.Join(b.sharesDir(), p.Name()))
		if err != nil {
			return fmt.Errorf("walk share store: %w", err)
		}
		for _, e := range buckets {
			si, ok := backend.ParseBucket(p.Name(), e.Name())
			if !ok {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(si); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove implements backend.Backend.
func (b *Backend) Remove(ctx context.Context, si storage.StorageIndex, shnum int) error {
	if err := b.check(ctx, shnum); err != nil {
		return err
	}
	if err := os.Remove(b.SharePath(si, shnum)); err != nil {
		return fmt.Errorf("remove share: %w", err)
	}
	return nil
}

// Lock implements backend.Backend: an in-process lock (waiting honours
// ctx), then an exclusive flock on the bucket directory (creating it), so
// that read-modify-write is atomic across processes too. unlock removes the
// bucket directory if it is empty.
func (b *Backend) Lock(ctx context.Context, si storage.StorageIndex) (func(), error) {
	release, err := b.locks.Lock(ctx, si)
	if err != nil {
		return nil, err
	}
	unlockDir, err := b.lockDir(si)
	if err != nil {
		release()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unlockDir()
			release()
		})
	}, nil
}

func (b *Backend) lockDir(si storage.StorageIndex) (func(), error) {
	dir := b.BucketDir(si)
	for {
		if err := mkdirBucket(dir); err != nil {
			return nil, err
		}
		f, err := os.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by another process between the two calls
		}
		if err != nil {
			return nil, fmt.Errorf("open bucket directory: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock bucket: %w", err)
		}
		// The directory may have been removed (and recreated) while we
		// waited: only a lock on the current one counts.
		held, err1 := f.Stat()
		cur, err2 := os.Stat(dir)
		if err1 == nil && err2 == nil && os.SameFile(held, cur) {
			return func() {
				_ = os.Remove(dir) // only succeeds when empty
				f.Close()
			}, nil
		}
		f.Close()
	}
}

// mkdirBucket makes the bucket directory dir (and its prefix directory
// when that is missing too); it is not an error if it exists. One mkdir in
// the usual case, where MkdirAll stats its way down first.
func mkdirBucket(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.Mkdir(filepath.Dir(dir), 0o755); err == nil || errors.Is(err, fs.ErrExist) {
			err = os.Mkdir(dir, 0o755)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create bucket directory: %w", err)
	}
	return nil
}

// FreeSpace implements backend.Backend: the space available to
// unprivileged users on the store's file system.
func (b *Backend) FreeSpace(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(b.dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", b.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// PutAux implements backend.Backend: DIR/key, written whole (temporary
// file, rename).
func (b *Backend) PutAux(ctx context.Context, key string, data []byte) error {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return err
	}
	path := filepath.Join(b.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("auxiliary object %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("auxiliary object %s: %w", key, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("auxiliary object %s: %w", key, err)
	}
	return nil
}

// GetAux implements backend.Backend.
func (b *Backend) GetAux(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return nil, err
	}
	d, err := os.ReadFile(filepath.Join(b.dir, filepath.FromSlash(key)))
	if err != nil {
		return nil, fmt.Errorf("auxiliary object %s: %w", key, err)
	}
	return d, nil
}

// ListAux implements backend.Backend: the files under DIR whose
// slash-separated paths are valid keys beginning with prefix (never the
// shares/ tree, nor PutAux's temporary files).
func (b *Backend) ListAux(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Walk only the deepest directory the prefix names.
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	root := filepath.Join(b.dir, filepath.FromSlash(base))
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, rerr := filepath.Rel(b.dir, path)
		if rerr != nil {
			return rerr
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == "shares" || strings.HasPrefix(d.Name(), ".tmp-") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".tmp-") &&
			strings.HasPrefix(key, prefix) && backend.ValidAuxKey(key) {
			out = append(out, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list auxiliary objects %q: %w", prefix, err)
	}
	sort.Strings(out)
	return out, nil
}

// DeleteAux implements backend.Backend.
func (b *Backend) DeleteAux(ctx context.Context, key string) error {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(b.dir, filepath.FromSlash(key)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete auxiliary object %s: %w", key, err)
	}
	return nil
}

type reader struct {
	f    *os.File
	size int64
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *reader) Size() int64                             { return r.size }
func (r *reader) Close() error                            { return r.f.Close() }

// writer is a created (incoming) or edited container file.
type writer struct {
	f               *os.File
	incoming, final string // created containers only
	edit            bool

	mu        sync.Mutex
	size      int64
	committed bool
	closed    bool
	// unsent is the stretch written since write-back was last started
	// (created containers, written front to back).
	unsentOff, unsentEnd int64
}

// writebackEvery is how many bytes of a created container are written
// before the kernel is asked to start writing them to disk.
const writebackEvery = 4 << 20

func (w *writer) ReadAt(p []byte, off int64) (int, error) {
	n, err := w.f.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read share container: %w", err)
	}
	return n, err
}

func (w *writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.committed {
		return 0, fmt.Errorf("write after commit or close: %w", backend.ErrClosed)
	}
	n, err := w.f.WriteAt(p, off)
	end := off + int64(n)
	if end > w.size {
		w.size = end
	}
	if !w.edit && n > 0 {
		if w.unsentEnd != off {
			w.unsentOff = off // not contiguous: start a new stretch
		}
		w.unsentEnd = end
		if w.unsentEnd-w.unsentOff >= writebackEvery {
			startWriteback(w.f, w.unsentOff, w.unsentEnd-w.unsentOff)
			w.unsentOff = w.unsentEnd
		}
	}
	if err != nil {
		return n, fmt.Errorf("write share container: %w", err)
	}
	return n, nil
}

func (w *writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
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
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync share: %w", err)
	}
	if w.edit {
		w.committed = true
		return nil
	}
	if err := publish(w.incoming, w.final); err != nil {
		return err
	}
	w.committed = true
	return nil
}

// publish moves a synced incoming file to final, failing with ErrExist
// rather than replacing (a no-replace rename, or a link and the removal
// of the incoming name), and syncs the bucket directory.
func publish(incoming, final string) error {
	dir := filepath.Dir(final)
	for attempt := 0; ; attempt++ {
		if err := mkdirBucket(dir); err != nil {
			return err
		}
		err := moveNoReplace(incoming, final)
		if err == nil {
			break
		}
		// The bucket directory may vanish between mkdir and the move when
		// a lock holder tidies it: try again.
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			continue
		}
		return fmt.Errorf("publish share: %w", err)
	}
	syncDir(dir)
	return nil
}

// moveNoReplace renames incoming to final unless final exists.
func moveNoReplace(incoming, final string) error {
	err := renameNoReplace(incoming, final)
	if !errors.Is(err, errUnsupported) {
		return err
	}
	return linkAndRemove(incoming, final)
}

// linkAndRemove is the portable no-replace move: a link (which never
// replaces), then removal of the old name.
func linkAndRemove(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}

// syncDir fsyncs the directory dir, so the names made in it are durable.
// Errors are ignored, as the share itself is synced already. (Plain
// system calls: os.Open would also register the descriptor with the
// poller, three more calls for nothing.)
func syncDir(dir string) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	_ = syscall.Fsync(fd)
	syscall.Close(fd)
}

func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if !w.edit && !w.committed {
		// Unlink before unlocking (closing): see removeAbandoned.
		if rerr := os.Remove(w.incoming); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close share container: %w", err)
	}
	return nil
}
