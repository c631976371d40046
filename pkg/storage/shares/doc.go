// Package shares is the share store: a storage.Server over a
// backend.Backend. It owns Tahoe-LAFS's share container formats (immutable
// and mutable containers with their lease records, byte-identical to what
// Tahoe's storage server writes), the immutable upload state machine
// (allocation, chunked writes, completion, abort, idle reaping), mutable
// read-test-write with write enablers, leases kept in the containers (and
// mirrored through an optional LeaseRecorder), lease expiry, corruption
// advisories and space accounting.
//
// It does not know where the containers live (pkg/storage/backend and its
// disk, mem and S3 implementations), speak HTTP (pkg/storage/gbsserver) or
// link SQLite (pkg/storage/leasedb implements LeaseRecorder). OpenDisk is
// the convenience opener over Tahoe's on-disk layout used by the embedded
// local grid; New opens a store over any backend.
package shares
