// Package filestore is the one seam between the command lines and a grid:
// the Store interface (put and get immutable files, create and overwrite
// mutable ones, make, read and change directories, resolve paths), the
// options and results its methods take and give, the errors every
// implementation returns, and the path helpers written over it (Lookup,
// Parent, MkdirAll, LookupFile, Move).
//
// Every method maps onto one or a few calls of Tahoe-LAFS's web API, so a
// gateway (a node's web API, pkg/webapi) implements it as well as the
// direct grid client (pkg/client) does. What only a direct implementation
// knows, such as where each share went, is an optional extra
// (UploadResult.Placement), never a required result.
//
// It owns no I/O of its own: choosing and opening an implementation for a
// node directory is pkg/lafs's job.
package filestore
