// Package backend defines the share backend: where a share store keeps its
// share containers. A container is an opaque byte string named by a storage
// index and a share number (0-255); the backend neither knows nor checks
// the container formats (Tahoe's immutable and mutable containers, with
// their leases, are pkg/storage/shares' business), does no accounting of
// allocated space and authorizes nothing.
//
// The interface is shaped so that both a POSIX directory (Tahoe's own
// layout, pkg/storage/backend/disk) and an object store (S3) implement it
// naturally:
//
//   - A new container is written invisibly (Create: an incoming file, or a
//     local spool / multipart upload) and published whole and atomically by
//     Commit (rename, or one PUT with If-None-Match: *). Commit never
//     replaces a committed container.
//   - An existing container is changed through Edit: reads, in-place
//     writes and growth, then Commit. A disk backend writes in place and
//     Commit makes the writes durable (fsync); an object store buffers the
//     changes and Commit replaces the object whole with a conditional PUT
//     (If-Match on the ETag seen by Edit), failing with ErrConflict when the
//     object changed underneath.
//   - Readers get an io.ReaderAt and the size (pread, or ranged GETs).
//   - Lock serialises the edits of one storage index among the backend's
//     users (in process, and across processes where the backend can).
//
// The package also holds the conformance suite every implementation runs
// (backendtest) and an in-memory implementation for tests (mem).
package backend

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"

	"github.com/lafs/lafs/pkg/storage"
)

// Errors a Backend returns, tested with errors.Is. ErrNotExist and ErrExist
// are fs.ErrNotExist and fs.ErrExist, so a disk backend's *fs.PathError
// values match them as they are.
var (
	// ErrNotExist: no committed container with that name (Open, Edit,
	// Remove), or no auxiliary object (GetAux).
	ErrNotExist = fs.ErrNotExist
	// ErrExist: Commit of a new container whose name is already committed,
	// or Create while another writer holds an incoming container of the
	// same name (a backend that cannot tell may let Create succeed: Commit
	// still lets exactly one writer win).
	ErrExist = fs.ErrExist
	// ErrConflict: an edit's Commit found the container changed (or
	// removed) since Edit opened it, by a writer the Lock did not exclude.
	// Nothing was written.
	ErrConflict = errors.New("share container changed concurrently")
	// ErrClosed: the backend or the handle has been closed.
	ErrClosed = errors.New("share backend closed")
)

// UnknownSpace is what FreeSpace returns when the backend cannot tell how
// much space is left (an object store): the share store then applies only
// its own limits.
const UnknownSpace int64 = -1

// MaxShareNumber is the largest share number a backend must accept.
const MaxShareNumber = 255

// Backend stores share containers. Implementations are safe for concurrent
// use. Every method honours ctx; the I/O of a handle (ReadAt, WriteAt) is
// bound to the ctx given to the method that returned it.
//
// Share numbers outside 0..MaxShareNumber are refused with an error.
type Backend interface {
	// Create starts a new container for share shnum of si, invisible to
	// List, Open, Edit and Walk until Commit. sizeHint is the expected final
	// size of the container in bytes, or -1 when unknown (an object store may
	// use it to choose between one PUT and a multipart upload; it is not a
	// limit). Create fails with ErrExist when another writer holds an
	// incoming container of the same name (see ErrExist).
	Create(ctx context.Context, si storage.StorageIndex, shnum int, sizeHint int64) (Writer, error)

	// Open opens the committed container for reading; ErrNotExist when
	// there is none. The reader sees the container as it was at Open or,
	// on a disk backend, as edits leave it in place.
	Open(ctx context.Context, si storage.StorageIndex, shnum int) (Reader, error)

	// Edit opens the committed container for changes; ErrNotExist when
	// there is none. Callers hold Lock(si) while editing.
	Edit(ctx context.Context, si storage.StorageIndex, shnum int) (Writer, error)

	// List returns the share numbers of the committed containers of si,
	// ascending; empty (nil) when there are none.
	List(ctx context.Context, si storage.StorageIndex) ([]int, error)

	// Walk calls fn for every storage index that has (or, on a disk
	// backend, recently had) committed containers, in no particular
	// order, stopping at and returning the first error fn returns.
	Walk(ctx context.Context, fn func(si storage.StorageIndex) error) error

	// Remove deletes a committed container; ErrNotExist when there is none.
	// Callers hold Lock(si).
	Remove(ctx context.Context, si storage.StorageIndex, shnum int) error

	// Lock takes the exclusive per-storage-index lock that serialises
	// read-modify-write of si's containers, waiting (while ctx allows) for
	// other holders. unlock releases it and must be called exactly once.
	Lock(ctx context.Context, si storage.StorageIndex) (unlock func(), err error)

	// FreeSpace returns the bytes still available for containers, or
	// UnknownSpace.
	FreeSpace(ctx context.Context) (int64, error)

	// PutAux stores a small auxiliary object (such as a corruption
	// advisory) under key, replacing any object of that name. A key is one
	// or more '/'-separated components of [A-Za-z0-9._-] (not "." or
	// ".."), whose first component is not "shares"; a disk backend keeps it
	// as the file <dir>/<key>.
	PutAux(ctx context.Context, key string, data []byte) error

	// GetAux returns the auxiliary object stored under key; ErrNotExist
	// when there is none.
	GetAux(ctx context.Context, key string) ([]byte, error)

	// ListAux returns the keys of the auxiliary objects whose keys begin
	// with prefix (a plain string prefix; "" lists them all), sorted
	// bytewise; nil when there are none. Objects being written by PutAux
	// are not listed until they are whole. Keys that are not valid
	// auxiliary keys (such as the disk layout's own files under shares/)
	// are never listed.
	ListAux(ctx context.Context, prefix string) ([]string, error)

	// DeleteAux removes the auxiliary object stored under key. Removing a
	// key that has no object is not an error (an object store cannot tell
	// cheaply).
	DeleteAux(ctx context.Context, key string) error

	// Close releases the backend. Writers not yet committed are discarded
	// by their own Close; the backend need not track them.
	Close() error
}

// Reader reads one committed container.
type Reader interface {
	// ReadAt reads container bytes at off; short reads past Size return
	// io.EOF.
	io.ReaderAt
	// Size is the container's length in bytes.
	Size() int64
	// Close releases the reader.
	Close() error
}

// Writer writes one container: a new one (from Create, empty at first) or
// an existing one (from Edit). Writes past the end grow the container; a
// hole left by a write beyond the end reads as zeros (and may be stored
// sparsely). ReadAt sees the writer's own writes.
type Writer interface {
	io.ReaderAt
	io.WriterAt
	// Size is the container's current length, including writes not yet
	// committed.
	Size() int64
	// Commit publishes the container atomically: a created container
	// becomes visible whole, or not at all (ErrExist when the name is
	// already committed: Commit never replaces); an edited container's
	// writes become durable and visible (ErrConflict when it changed since
	// Edit). On a disk backend an edit's writes are applied in place as they
	// are made, so they are visible to readers before Commit, and a crash
	// may leave some of them without others (Tahoe's semantics); callers
	// therefore write only after every check has passed. After a successful
	// Commit the writer may still be read until Close; further writes are
	// an error.
	Commit(ctx context.Context) error
	// Close releases the writer. Before a successful Commit it discards a
	// created container and, where the backend can (not on disk), an
	// edit's writes.
	Close() error
}

// ValidShareNumber reports whether shnum is one a backend accepts.
func ValidShareNumber(shnum int) bool { return shnum >= 0 && shnum <= MaxShareNumber }

// ValidAuxKey reports whether key is a well-formed auxiliary-object key
// (see Backend.PutAux). Implementations refuse other keys.
func ValidAuxKey(key string) bool {
	if key == "" {
		return false
	}
	first := true
	for _, c := range strings.Split(key, "/") {
		if c == "" || c == "." || c == ".." || (first && c == "shares") {
			return false
		}
		first = false
		for _, r := range c {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return false
			}
		}
	}
	return true
}
