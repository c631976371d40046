package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
)

// Errors a Server returns. The GBS server maps them to HTTP status codes and
// the GBS client maps the codes back, so callers can test with errors.Is
// whichever implementation they hold.
var (
	// ErrNotFound: no such storage index, share or upload (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: bytes that differ from what was already written (409).
	ErrConflict = errors.New("conflicting write")
	// ErrUnauthorized: a wrong upload secret or write enabler (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTooLarge: a write beyond the allocated size, or a body over the
	// server's limit (413).
	ErrTooLarge = errors.New("too large")
	// ErrNotAllowed: an operation the share's state forbids, such as aborting
	// a completed upload (405).
	ErrNotAllowed = errors.New("not allowed")
	// ErrBadRequest: a malformed request (400).
	ErrBadRequest = errors.New("bad request")
	// ErrUnavailable: the server's share backend cannot be reached for now
	// (an object store down); the request may succeed later (503).
	ErrUnavailable = errors.New("share backend unavailable")
)

// StorageIndex identifies a bucket of shares: 16 bytes, written in Tahoe's
// base32 (26 characters) in paths and URLs.
type StorageIndex [16]byte

// String is the base32 form.
func (si StorageIndex) String() string { return caps.Base32Encode(si[:]) }

// ParseStorageIndex parses the 26-character base32 form.
func ParseStorageIndex(s string) (StorageIndex, error) {
	var si StorageIndex
	if len(s) != 26 {
		return si, fmt.Errorf("storage index %q: want 26 base32 characters: %w", s, ErrBadRequest)
	}
	b, err := caps.Base32DecodeLen(s, 16)
	if err != nil {
		return si, fmt.Errorf("storage index %q: %w", s, err)
	}
	if caps.Base32Encode(b) != s {
		return si, fmt.Errorf("storage index %q is not canonical base32: %w", s, ErrBadRequest)
	}
	copy(si[:], b)
	return si, nil
}

// LeaseSecrets are the per-server lease secrets a client derives
// (caps.BucketRenewalSecret, caps.BucketCancelSecret): 32 bytes each.
type LeaseSecrets struct {
	Renew  [32]byte
	Cancel [32]byte
}

// Version is the server's version message (GET /storage/v1/version).
type Version struct {
	MaximumImmutableShareSize uint64
	MaximumMutableShareSize   uint64
	AvailableSpace            uint64
	ApplicationVersion        []byte
}

// AllocateResult says which of the requested shares the server already has
// and which it allocated for upload; both sorted ascending.
type AllocateResult struct {
	AlreadyHave []int
	Allocated   []int
}

// Range is a half-open byte range [Begin, End).
type Range struct {
	Begin uint64 `cbor:"begin" json:"begin"`
	End   uint64 `cbor:"end" json:"end"`
}

// WriteResult reports the state of an upload after a chunk: Complete when
// the share is whole (and visible), otherwise the ranges still required.
type WriteResult struct {
	Complete bool
	Required []Range
}

// TestVector compares Size bytes at Offset with Specimen (reads past the end
// of the data are short; a missing share reads as empty).
type TestVector struct {
	Offset   uint64 `cbor:"offset" json:"offset"`
	Size     uint64 `cbor:"size" json:"size"`
	Specimen []byte `cbor:"specimen" json:"specimen"`
}

// WriteVector writes Data at Offset.
type WriteVector struct {
	Offset uint64 `cbor:"offset" json:"offset"`
	Data   []byte `cbor:"data" json:"data"`
}

// ReadVector reads Size bytes at Offset.
type ReadVector struct {
	Offset uint64 `cbor:"offset" json:"offset"`
	Size   uint64 `cbor:"size" json:"size"`
}

// TestWriteVectors is what a read-test-write does to one share: all tests
// must pass (for every share) before any write happens. NewLength, when set,
// truncates the share; zero deletes it.
type TestWriteVectors struct {
	Test      []TestVector  `cbor:"test" json:"test"`
	Write     []WriteVector `cbor:"write" json:"write"`
	NewLength *uint64       `cbor:"new-length" json:"new-length"`
}

// ReadTestWriteRequest is the body of a mutable read-test-write.
type ReadTestWriteRequest struct {
	TestWriteVectors map[uint64]TestWriteVectors `cbor:"test-write-vectors" json:"test-write-vectors"`
	ReadVector       []ReadVector                `cbor:"read-vector" json:"read-vector"`
}

// ReadTestWriteResult reports whether the tests passed (and the writes were
// applied) and the data read, before the writes, from every existing share.
type ReadTestWriteResult struct {
	Success bool                `cbor:"success" json:"success"`
	Data    map[uint64][][]byte `cbor:"data" json:"data"`
}

// MutableSecrets authorize a read-test-write: the write enabler (checked
// against the one stored with each share) and the lease secrets.
type MutableSecrets struct {
	WriteEnabler [32]byte
	Lease        LeaseSecrets
}

// Server is a Tahoe-LAFS storage server as a client sees it: the operations
// of the HTTP storage protocol (GBS). pkg/storage/shares implements it over a
// share backend in this process; pkg/client/gbs implements it over HTTPS.
// Every method honours ctx cancellation.
type Server interface {
	// Version returns the server's version message.
	Version(ctx context.Context) (Version, error)
	// AllocateBuckets prepares immutable shares for upload. Repeating the call
	// with the same upload secret changes nothing.
	AllocateBuckets(ctx context.Context, si StorageIndex, lease LeaseSecrets, uploadSecret []byte, shares []int, allocatedSize uint64) (AllocateResult, error)
	// WriteShareChunk writes data at offset into an allocated share.
	WriteShareChunk(ctx context.Context, si StorageIndex, shnum int, uploadSecret []byte, offset uint64, data []byte) (WriteResult, error)
	// AbortUpload abandons an unfinished upload and frees its space.
	AbortUpload(ctx context.Context, si StorageIndex, shnum int, uploadSecret []byte) error
	// ListShares returns the complete immutable shares held for si.
	ListShares(ctx context.Context, si StorageIndex) ([]int, error)
	// ReadShareChunk reads up to length bytes at offset of an immutable share;
	// the result is short past the end of the data.
	ReadShareChunk(ctx context.Context, si StorageIndex, shnum int, offset, length uint64) ([]byte, error)
	// AdviseCorruptShare reports a corrupt immutable share.
	AdviseCorruptShare(ctx context.Context, si StorageIndex, shnum int, reason string) error
	// ReadTestWrite is the mutable read-test-and-write operation.
	ReadTestWrite(ctx context.Context, si StorageIndex, secrets MutableSecrets, req ReadTestWriteRequest) (ReadTestWriteResult, error)
	// ListMutableShares returns the mutable shares held for si.
	ListMutableShares(ctx context.Context, si StorageIndex) ([]int, error)
	// ReadMutableShareChunk reads up to length bytes at offset of a mutable share.
	ReadMutableShareChunk(ctx context.Context, si StorageIndex, shnum int, offset, length uint64) ([]byte, error)
	// AdviseCorruptMutableShare reports a corrupt mutable share.
	AdviseCorruptMutableShare(ctx context.Context, si StorageIndex, shnum int, reason string) error
	// AddOrRenewLease renews the lease matching lease.Renew on every share of
	// si, or adds one; ErrNotFound when there are no shares.
	AddOrRenewLease(ctx context.Context, si StorageIndex, lease LeaseSecrets) error
	// Close releases what the server holds (connections, open files,
	// uploads in progress). The server is not used afterwards.
	Close() error
}

// ShareData is the data of one complete share opened for streaming reads
// (see pkg/storage/gbsserver's ShareOpener): ReadAt reads share data, not
// container bytes, with io.ReaderAt semantics; Size is its length.
type ShareData interface {
	io.ReaderAt
	Size() int64
	Close() error
}
