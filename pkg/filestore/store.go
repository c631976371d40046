package filestore

import (
	"context"
	"crypto/rsa"
	"errors"
	"io"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
)

// Errors every Store returns (wrapped, so test them with errors.Is).
var (
	// ErrNotFound: a path names no child (Tahoe's web API: 404).
	ErrNotFound = errors.New("no such child")
	// ErrExists: a child of that name already exists and replacing it was
	// not asked for (409).
	ErrExists = errors.New("a child of that name already exists")
	// ErrReadOnly: a write through a read cap, or into an immutable
	// directory (Tahoe: 400 or 409 depending on the operation).
	ErrReadOnly = errors.New("read-only")
	// ErrNotDirectory: a path goes through, or an operation needs, a
	// directory and finds a file.
	ErrNotDirectory = errors.New("not a directory")
	// ErrUncoordinated: another writer changed a mutable file meanwhile; the
	// caller may read again and retry.
	ErrUncoordinated = errors.New("uncoordinated write: another writer changed the file")
)

// Store is a Tahoe-LAFS file store: the grid as the command lines see it.
// Implementations: pkg/client (direct: encodes and places shares itself,
// over the embedded local grid or GBS servers) and pkg/webapi (a gateway:
// a node's web API). All methods honour ctx.
type Store interface {
	// Upload stores size bytes of src as an immutable file (CHK, or LIT
	// when small) and returns its read cap. src may be read more than once
	// (convergent encryption needs two passes).
	Upload(ctx context.Context, src io.ReaderAt, size int64, o UploadOptions) (*UploadResult, error)
	// Download writes the contents of the file cap c (immutable or mutable)
	// to w, verified. Nothing written is trustworthy unless it returns nil,
	// so callers write to a temporary place.
	Download(ctx context.Context, c *caps.Cap, w io.Writer, o DownloadOptions) error
	// CreateMutable stores data as a new mutable file and returns its
	// write cap.
	CreateMutable(ctx context.Context, data []byte, o MutableOptions) (*caps.Cap, error)
	// OverwriteMutable replaces the contents of the mutable file whose
	// write cap is c (a new version). A read cap is ErrReadOnly.
	OverwriteMutable(ctx context.Context, c *caps.Cap, data []byte) error
	// Mkdir creates a directory holding o.Children and returns its cap:
	// the write cap of a mutable directory (SDMF unless o.Format is MDMF),
	// or the read cap of an immutable one (o.Format FormatCHK), whose
	// children must all be deeply immutable.
	Mkdir(ctx context.Context, o MkdirOptions) (*caps.Cap, error)
	// ReadDir returns a directory's children, in the order stored. Through
	// a write cap the children's write caps are included.
	ReadDir(ctx context.Context, dir *caps.Cap) ([]dirnode.Entry, error)
	// Link adds child as name in the writable directory dir. An existing
	// name is ErrExists unless replace, which keeps its creation time and
	// sets its modification time (Tahoe's metadata rule).
	Link(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, replace bool) error
	// Unlink removes name from the writable directory dir (ErrNotFound when
	// it is not there).
	Unlink(ctx context.Context, dir *caps.Cap, name string) error
	// Resolve walks a slash-separated path of child names from root and
	// returns the cap it names (root itself for an empty path).
	Resolve(ctx context.Context, root *caps.Cap, path string) (*caps.Cap, error)
	// Close releases what the store holds (connections, open share stores).
	Close() error
}

// UploadOptions tune an immutable upload.
type UploadOptions struct {
	// Progress, when set, is told how many bytes of the file have been
	// processed so far; its calls never overlap.
	Progress func(done int64)
}

// UploadResult describes a finished upload.
type UploadResult struct {
	Cap *caps.Cap
	// Created is false when the grid already held the file (Tahoe's
	// gateway answers 200 OK then, 201 Created otherwise).
	Created bool
	// Placement says where the shares are, when the store knows (direct
	// mode); nil otherwise.
	Placement *Placement
}

// Placement is a direct upload's share placement.
type Placement struct {
	Happiness int
	// Shares maps a share number to the id of the server holding it.
	Shares   map[int]string
	Uploaded int // shares written
	Kept     int // shares already on the grid, leases renewed
}

// DownloadOptions tune a download.
type DownloadOptions struct {
	// OnBadShare, when set, is told of every share rejected on the way
	// (server is "" when the store does not know it).
	OnBadShare func(shnum int, server string, err error)
}

// MutableOptions tune the creation of a mutable file.
type MutableOptions struct {
	// Format is FormatSDMF (the default when zero) or FormatMDMF.
	Format Format
	// Key signs the new file; a fresh RSA-2048 key when nil.
	Key *rsa.PrivateKey
}

// MkdirOptions tune the creation of a directory.
type MkdirOptions struct {
	// Format is FormatSDMF (the default when zero), FormatMDMF, or
	// FormatCHK for an immutable directory.
	Format Format
	// Children are the entries the new directory starts with; entries with
	// no metadata get fresh link times.
	Children []dirnode.Entry
}
