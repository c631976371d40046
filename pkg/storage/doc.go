// Package storage is the client-facing API of a Tahoe-LAFS storage server:
// the Server interface (the operations of the HTTP storage protocol,
// "Great Black Swamp"), its request and result types, StorageIndex, and the
// error sentinels every implementation returns so callers can test with
// errors.Is whichever implementation they hold.
//
// It imports only the standard library and pkg/caps. The implementations
// live elsewhere: the share store (pkg/storage/shares) over a share backend
// (pkg/storage/backend: disk, mem, s3), the lease database
// (pkg/storage/leasedb), the lease log kept in an object store's bucket
// (pkg/storage/leaselog), the GBS wire format (pkg/storage/gbswire), the GBS
// HTTP server (pkg/storage/gbsserver) and client (pkg/client/gbs); the
// storage node's lifecycle is pkg/node.
package storage
