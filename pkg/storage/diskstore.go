package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// DiskStore is the share store on local disk, in Tahoe-LAFS's layout, so
// Tahoe's storage server and ours can be pointed at the same directory:
//
//	DIR/shares/<first 2 chars of SI>/<SI>/<share number>   complete shares
//	DIR/shares/incoming/<2 chars>/<SI>/<share number>      uploads in progress
//	DIR/corruption-advisories/                             corruption reports
//
// DIR is the node's storage directory (NODEDIR/storage by default). A share
// appears under shares/ only when it is complete: it is written under
// incoming/, synced and renamed into place.
type DiskStore struct {
	dir string
	// incoming is the incoming/ directory, held open with a shared flock
	// so that a process opening the store only cleans incoming/ when no
	// other process is using it.
	incoming *os.File
}

// OpenDiskStore opens (creating if needed) the store rooted at dir. Like
// Tahoe, it removes uploads left in incoming/ by a previous run, but only
// when no other process has the store open (several CLI processes may share
// an embedded local grid). Close releases it.
func OpenDiskStore(dir string) (*DiskStore, error) {
	s := &DiskStore{dir: dir}
	if err := os.MkdirAll(s.incomingDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create share store: %w", err)
	}
	f, err := os.Open(s.incomingDir())
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
			if err := os.RemoveAll(filepath.Join(s.incomingDir(), e.Name())); err != nil {
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
	s.incoming = f
	return s, nil
}

// Close releases the store's lock.
func (s *DiskStore) Close() error {
	if s.incoming == nil {
		return nil
	}
	err := s.incoming.Close()
	s.incoming = nil
	return err
}

// lockBucket takes an exclusive flock on the bucket directory of si
// (creating it), so that mutable read-test-write is atomic across
// processes. The returned unlock removes the directory if it is empty.
func (s *DiskStore) lockBucket(si StorageIndex) (func(), error) {
	dir := s.BucketDir(si)
	for {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create bucket directory: %w", err)
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

// Dir is the storage directory.
func (s *DiskStore) Dir() string { return s.dir }

func (s *DiskStore) sharesDir() string   { return filepath.Join(s.dir, "shares") }
func (s *DiskStore) incomingDir() string { return filepath.Join(s.dir, "shares", "incoming") }

func siDir(si StorageIndex) string {
	a := si.String()
	return filepath.Join(a[:2], a)
}

// BucketDir is the directory holding the complete shares of si.
func (s *DiskStore) BucketDir(si StorageIndex) string {
	return filepath.Join(s.sharesDir(), siDir(si))
}

// SharePath is where share shnum of si lives when complete.
func (s *DiskStore) SharePath(si StorageIndex, shnum int) string {
	return filepath.Join(s.BucketDir(si), strconv.Itoa(shnum))
}

// IncomingPath is where share shnum of si is written while incomplete.
func (s *DiskStore) IncomingPath(si StorageIndex, shnum int) string {
	return filepath.Join(s.incomingDir(), siDir(si), strconv.Itoa(shnum))
}

// Shares lists the share numbers held for si (any container kind), sorted.
func (s *DiskStore) Shares(si StorageIndex) ([]int, error) {
	ents, err := os.ReadDir(s.BucketDir(si))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list shares of %s: %w", si, err)
	}
	var out []int
	for _, e := range ents {
		if n, ok := shareNumber(e.Name()); ok {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// shareNumber accepts the decimal names Tahoe writes (no sign, no leading
// zeros beyond "0").
func shareNumber(name string) (int, bool) {
	if name == "" || len(name) > 3 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}

// Kind reads the container kind of share shnum of si.
func (s *DiskStore) Kind(si StorageIndex, shnum int) (ContainerKind, error) {
	f, err := os.Open(s.SharePath(si, shnum))
	if err != nil {
		return KindUnknown, fmt.Errorf("open share: %w", err)
	}
	defer f.Close()
	hdr := make([]byte, 32)
	n, _ := f.ReadAt(hdr, 0)
	return DetectContainer(hdr[:n]), nil
}

// WalkBuckets calls fn for every storage index that has a bucket directory.
func (s *DiskStore) WalkBuckets(fn func(si StorageIndex) error) error {
	prefixes, err := os.ReadDir(s.sharesDir())
	if err != nil {
		return fmt.Errorf("walk share store: %w", err)
	}
	for _, p := range prefixes {
		if !p.IsDir() || len(p.Name()) != 2 {
			continue
		}
		buckets, err := os.ReadDir(filepath.Join(s.sharesDir(), p.Name()))
		if err != nil {
			return fmt.Errorf("walk share store: %w", err)
		}
		for _, b := range buckets {
			si, err := ParseStorageIndex(b.Name())
			if err != nil || b.Name()[:2] != p.Name() {
				continue
			}
			if err := fn(si); err != nil {
				return err
			}
		}
	}
	return nil
}

// publish makes a finished file visible at final: sync the file, rename it
// into place and sync the directory, so a crash leaves either no share or the
// whole share.
func publish(f *os.File, incoming, final string) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync share: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("create bucket directory: %w", err)
	}
	if err := os.Rename(incoming, final); err != nil {
		return fmt.Errorf("publish share: %w", err)
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	// Tidy the now-empty incoming directories, as Tahoe does.
	_ = os.Remove(filepath.Dir(incoming))
	_ = os.Remove(filepath.Dir(filepath.Dir(incoming)))
	return nil
}

// FreeSpace is the space available to unprivileged users on the store's
// file system.
func (s *DiskStore) FreeSpace() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", s.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
