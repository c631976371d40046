// Package bench holds lafs's whole-system benchmarks: put and get of a
// large file, `cp -r` of many small files into a directory, listing a
// directory of 1,000 and 10,000 entries, and overwriting SDMF and MDMF
// mutable files. Each runs through the entry points the command lines
// use — a node directory opened with lafs.Open, the filestore.Store it
// returns, and internal/copier for cp — over two grids built in the test
// process: the embedded local grid of 10 servers and 10 storage nodes run
// by pkg/node's RunNode (the code `tahoe run` runs), serving GBS over real
// TLS on 127.0.0.1. Every grid is 3-of-10, happy 7.
//
// It owns no code outside its tests. It does not own the codec's
// benchmarks (pkg/client/chk: encode, decode, and one core's SHA-256, the
// floor) or the benchmarks of single layers (pkg/client/gbs,
// pkg/storage/shares, ...), and it measures no whole processes: `make
// bench-cli` (internal/benchcli) runs the built binaries. `make bench`
// runs this package with the codec's benchmarks.
//
// LAFS_BENCH_MIB sets the size of the put/get file (default 64).
package bench
