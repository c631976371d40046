// Package storage owns the storage-server side of Tahoe-LAFS: the share store
// on disk in Tahoe's layout and container formats (so Tahoe's storage server
// and ours can serve the same directory), the lease database in SQLite, the
// Server interface that clients program against, Local (an in-process Server
// over the disk store, used by the embedded local grid), the HTTP storage
// protocol server ("Great Black Swamp", GBS) with its TLS identity and NURL,
// and the storage node's identity files and lifecycle (CreateNode, RunNode).
//
// It does not encode, encrypt or verify share contents (pkg/client does),
// does not place shares (pkg/happiness), and has no command-line code: cmd/
// wires CreateNode and RunNode to `tahoe create-node` and `tahoe run`. The
// GBS client lives in pkg/client/gbs.
package storage
