// Package node is a storage node's lifecycle, as `tahoe create-node` and
// `tahoe run` see it: creating a node directory in Tahoe's layout
// (CreateNode, NodeOptions), its long-lived identity (ed25519 key, TLS
// certificate and its SPKI hash, tub id, permutation seed, swissnum:
// LoadIdentity, GenerateCertificate), the part of tahoe.cfg a storage node
// reads (ReadNodeConfig), the servers.yaml entry it announces, and running
// it (RunNode: the share store on disk with the lease database, or on S3
// with the lease log in the bucket and a droppable local cache of it; the
// GBS server over TLS; and the maintenance loop), and creating an S3
// node's bucket (CreateContainer).
//
// It has no command-line code (cmd/tahoe wires it), and no storage logic of
// its own: that is pkg/storage/shares, leasedb, leaselog and gbsserver.
package node
