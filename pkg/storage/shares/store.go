package shares

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
)

// Options configure a Store.
type Options struct {
	// NodeID is the 20-byte id recorded in mutable containers beside the
	// write enabler and in mutable leases (Tahoe's tub id).
	NodeID [20]byte
	// ReservedSpace is kept free on the backend: allocations that would
	// eat into it are refused.
	ReservedSpace int64
	// ReadOnly refuses all new immutable shares.
	ReadOnly bool
	// ApplicationVersion goes into the version message.
	ApplicationVersion string
	// Now is the clock for lease expiration; time.Now when nil.
	Now func() time.Time
	// Leases, when set, mirrors every lease (pkg/storage/leasedb).
	Leases LeaseRecorder
	// LeaseLog, when set, is where lease renewals of complete shares go
	// instead of into their containers (pkg/storage/leaselog, for object
	// stores, where renewing in the container would rewrite the whole
	// share), and what ExpireShares consults. New containers still carry
	// their first lease, so their bytes are what Tahoe writes.
	LeaseLog LeaseLog
	// Logger receives debug records; discarded when nil. Secrets are never
	// logged.
	Logger *slog.Logger
	// MaxMutableShareSize bounds the data of one mutable share: writes
	// past it are refused (storage.ErrTooLarge) and the version message
	// reports it. Zero means Tahoe's MaxMutableShareSize. A backend that
	// stores containers whole (an object store) wants a much smaller bound,
	// since a tiny write far past the end makes the container that large
	// (on disk the hole is sparse).
	MaxMutableShareSize uint64
	// ReadHandles is how many open read handles of complete immutable
	// shares the store keeps for reuse (0: a default of 16; negative:
	// none).
	ReadHandles int
	// MaxUploads bounds the immutable uploads in progress (each holds its
	// container open): allocations beyond it are not made, as when space
	// runs out (0: a default of 4096).
	MaxUploads int
}

// Store is a storage.Server over a backend: what the embedded local grid
// uses in process and what the GBS HTTP server serves. It also implements
// gbsserver's streaming interfaces (WriteShareChunkFrom, OpenShare). It is
// safe for concurrent use.
type Store struct {
	b    backend.Backend
	opts Options
	// ownsBackend: Close closes b (OpenDisk).
	ownsBackend bool

	mu      sync.Mutex
	uploads map[uploadKey]*upload
	// allocated is the space promised to uploads in progress.
	allocated int64
	closed    bool

	readers *readerCache
}

type uploadKey struct {
	si    storage.StorageIndex
	shnum int
}

var _ storage.Server = (*Store)(nil)

// New serves the shares kept in b. Close does not close b.
func New(b backend.Backend, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxMutableShareSize == 0 || opts.MaxMutableShareSize > maxMutableShareSize {
		opts.MaxMutableShareSize = maxMutableShareSize
	}
	if opts.MaxUploads <= 0 {
		opts.MaxUploads = 4096
	}
	n := opts.ReadHandles
	if n == 0 {
		n = 16
	}
	return &Store{b: b, opts: opts, uploads: map[uploadKey]*upload{}, readers: newReaderCache(max(n, 0))}
}

// OpenDisk opens the share store in Tahoe's on-disk layout at dir
// (backend/disk) and serves it; Close releases both. This is the embedded
// local grid's entry point.
func OpenDisk(dir string, opts Options) (*Store, error) {
	b, err := disk.Open(dir)
	if err != nil {
		return nil, err
	}
	s := New(b, opts)
	s.ownsBackend = true
	return s, nil
}

// Backend is the backend the store keeps its containers in.
func (s *Store) Backend() backend.Backend { return s.b }

// Close aborts every upload in progress, drops cached read handles and
// (when OpenDisk opened it) closes the backend.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ups := s.uploads
	s.uploads = map[uploadKey]*upload{}
	s.allocated = 0
	s.mu.Unlock()
	var errs []error
	for _, u := range ups {
		u.mu.Lock()
		if !u.done {
			u.done = true
			errs = append(errs, u.w.Close())
		}
		u.mu.Unlock()
	}
	errs = append(errs, s.readers.closeAll())
	if s.ownsBackend {
		errs = append(errs, s.b.Close())
	}
	return errors.Join(errs...)
}

func (s *Store) expiration() uint32 {
	return uint32(s.opts.Now().Unix() + leaseRenewalSeconds)
}

// availableSpace is what new immutable shares may still use.
func (s *Store) availableSpace(ctx context.Context) int64 {
	if s.opts.ReadOnly {
		return 0
	}
	return s.availableSpaceMutable(ctx)
}

// availableSpaceMutable is the space mutable writes may use: read-only
// servers still accept them, as Tahoe's do. A backend that cannot tell its
// free space is treated as unbounded (less what is promised).
func (s *Store) availableSpaceMutable(ctx context.Context) int64 {
	free, err := s.b.FreeSpace(ctx)
	if err != nil {
		return 0
	}
	if free == backend.UnknownSpace {
		free = math.MaxInt64 / 2
	}
	s.mu.Lock()
	alloc := s.allocated
	s.mu.Unlock()
	return max(0, free-s.opts.ReservedSpace-alloc)
}

// Version implements storage.Server.
func (s *Store) Version(ctx context.Context) (storage.Version, error) {
	if err := ctx.Err(); err != nil {
		return storage.Version{}, err
	}
	free := uint64(s.availableSpace(ctx))
	return storage.Version{
		MaximumImmutableShareSize: free,
		MaximumMutableShareSize:   s.opts.MaxMutableShareSize,
		AvailableSpace:            free,
		ApplicationVersion:        []byte(s.opts.ApplicationVersion),
	}, nil
}

// exists reports whether share shnum of si is committed.
func (s *Store) exists(ctx context.Context, si storage.StorageIndex, shnum int) (bool, error) {
	r, err := s.b.Open(ctx, si, shnum)
	if errors.Is(err, backend.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.Close()
	return true, nil
}

// listKind returns the shares of si held in containers of kind, ascending:
// a storage index's immutable and mutable shares are separate worlds, and
// neither is ever listed (or counted, read or "already held") as the other.
func (s *Store) listKind(ctx context.Context, si storage.StorageIndex, kind ContainerKind) (all, ofKind []int, err error) {
	all, err = s.b.List(ctx, si)
	if err != nil {
		return nil, nil, err
	}
	ofKind = []int{}
	for _, n := range all {
		k, err := s.kindOf(ctx, si, n)
		if errors.Is(err, backend.ErrNotExist) {
			continue // removed since listed
		}
		if err != nil {
			return nil, nil, err
		}
		if k == kind {
			ofKind = append(ofKind, n)
		}
	}
	return all, ofKind, nil
}

// isKind reports whether share shnum of si is committed in a container of
// kind.
func (s *Store) isKind(ctx context.Context, si storage.StorageIndex, shnum int, kind ContainerKind) bool {
	k, err := s.kindOf(ctx, si, shnum)
	return err == nil && k == kind
}

// kindOf reads the container kind of a committed share.
func (s *Store) kindOf(ctx context.Context, si storage.StorageIndex, shnum int) (ContainerKind, error) {
	r, err := s.b.Open(ctx, si, shnum)
	if err != nil {
		return KindUnknown, fmt.Errorf("open share: %w", err)
	}
	defer r.Close()
	return detect(r), nil
}

// lockBucket serialises mutable operations (and removals) on si.
func (s *Store) lockBucket(ctx context.Context, si storage.StorageIndex) (func(), error) {
	return s.b.Lock(ctx, si)
}

func clampOff(v uint64) int64 {
	if v > math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(v)
}

// dedupe returns the distinct values of s in ascending order.
func dedupe(s []int) []int { return slices.Compact(slices.Sorted(slices.Values(s))) }

// notFound turns a backend's "no such container" into storage.ErrNotFound.
func notFound(err error, si storage.StorageIndex, shnum int) error {
	if errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("share %s/%d: %w", si, shnum, storage.ErrNotFound)
	}
	return err
}
