// Package client is the grid client: it uploads and downloads immutable
// files itself — convergent encryption, erasure coding, hash trees — and
// places shares on storage servers by servers-of-happiness, talking to each
// server through the storage.Server interface (in process for the embedded
// local grid, pkg/client/gbs over HTTPS for a networked grid).
//
// Every question to the servers goes to all of them at once, each under
// Client.QueryTimeout, through one fan-out (internal/fanout): a server that
// accepts connections and never answers costs an operation at most one
// query timeout, and reads stop waiting (after Client.Grace) once k shares
// are located. A server that fails while an upload writes to it is
// dropped; only the shares missing from a placement that is no longer
// happy are written again.
//
// Sub-packages hold the pieces: chk (the immutable codec), mutable (SDMF
// and MDMF), dirnode (directory contents), hashtree (Tahoe's Merkle trees),
// gbs (the HTTP storage protocol client), internal/fanout (the fan-out).
package client

import (
	"crypto/sha1"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

// Server is one storage server as the client uses it.
type Server struct {
	ID       string // server id ("v0-..." for real nodes)
	Nickname string
	Addr     string // where it is: a NURL's host:port, or "local"
	// PermutationSeed orders servers per storage index (Tahoe's
	// permute_server_hash).
	PermutationSeed []byte
	// LeaseSeed is the 20-byte tub id that lease secrets and write enablers
	// are derived from.
	LeaseSeed []byte
	Storage   storage.Server
}

// Permuted returns the servers in Tahoe's permuted order for a storage
// index: ascending SHA-1(storage index || permutation seed).
func Permuted(servers []Server, si []byte) []Server {
	seeds := make([][]byte, len(servers))
	ids := make([]string, len(servers))
	for i, s := range servers {
		seeds[i], ids[i] = s.PermutationSeed, s.ID
	}
	out := make([]Server, len(servers))
	for i, j := range nodedir.PermutedIndex(si, seeds, ids) {
		out[i] = servers[j]
	}
	return out
}

// LeaseSecrets derives the lease renew and cancel secrets a client with
// base secret clientSecret holds on one server for one storage index,
// exactly as Tahoe derives them (client → file → bucket).
func LeaseSecrets(clientSecret, si, leaseSeed []byte) storage.LeaseSecrets {
	var ls storage.LeaseSecrets
	renew := caps.BucketRenewalSecret(caps.FileRenewalSecret(caps.ClientRenewalSecret(clientSecret), si), leaseSeed)
	cancel := caps.BucketCancelSecret(caps.FileCancelSecret(caps.ClientCancelSecret(clientSecret), si), leaseSeed)
	copy(ls.Renew[:], renew)
	copy(ls.Cancel[:], cancel)
	return ls
}

// leaseSeedOf checks a server's lease seed, falling back to a hash of its
// id where none is known (only for servers with no FURL, which Tahoe does
// not use at all).
func leaseSeedOf(s Server) []byte {
	if len(s.LeaseSeed) == 20 {
		return s.LeaseSeed
	}
	h := sha1.Sum([]byte(s.ID))
	return h[:]
}

func toSI(b []byte) (storage.StorageIndex, error) {
	var si storage.StorageIndex
	if len(b) != len(si) {
		return si, fmt.Errorf("storage index has %d bytes, want %d", len(b), len(si))
	}
	copy(si[:], b)
	return si, nil
}
