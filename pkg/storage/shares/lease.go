package shares

import (
	"crypto/subtle"
	"encoding/binary"

	"golang.org/x/crypto/blake2b"

	"github.com/lafs/lafs/pkg/storage"
)

// leaseRenewalSeconds is how long a new or renewed lease lasts (31 days).
const leaseRenewalSeconds = 31 * 24 * 60 * 60

// LeaseDuration is how long a new or renewed lease lasts, in seconds.
const LeaseDuration = leaseRenewalSeconds

// Lease is one lease record as a share container holds it. In version-2
// containers (what Tahoe-LAFS 1.17 and later, and this package, write) the
// secrets are stored as BLAKE2b-256 hashes; in version-1 containers they are
// stored in clear, and Cleartext is set.
type Lease struct {
	Owner        uint32
	RenewSecret  [32]byte // hashed unless Cleartext
	CancelSecret [32]byte // hashed unless Cleartext
	Expiration   uint32   // POSIX seconds
	NodeID       [20]byte // mutable containers only: the server that accepted the lease
	Cleartext    bool
}

// NewLease builds the stored (hashed) form of a lease from the secrets a
// client presents.
func NewLease(owner uint32, renew, cancel []byte, expiration uint32, nodeID [20]byte) Lease {
	return Lease{
		Owner:        owner,
		RenewSecret:  blake2b.Sum256(renew),
		CancelSecret: blake2b.Sum256(cancel),
		Expiration:   expiration,
		NodeID:       nodeID,
	}
}

// MatchesRenew reports, in constant time, whether secret is this lease's
// renew secret.
func (l Lease) MatchesRenew(secret []byte) bool {
	return l.matches(l.RenewSecret, secret)
}

// MatchesCancel reports, in constant time, whether secret is this lease's
// cancel secret.
func (l Lease) MatchesCancel(secret []byte) bool {
	return l.matches(l.CancelSecret, secret)
}

func (l Lease) matches(stored [32]byte, secret []byte) bool {
	if l.Cleartext {
		return subtle.ConstantTimeCompare(stored[:], secret) == 1
	}
	h := blake2b.Sum256(secret)
	return subtle.ConstantTimeCompare(stored[:], h[:]) == 1
}

func (l Lease) immutableBytes() []byte {
	b := make([]byte, immutableLeaseSize)
	binary.BigEndian.PutUint32(b[0:], l.Owner)
	copy(b[4:], l.RenewSecret[:])
	copy(b[36:], l.CancelSecret[:])
	binary.BigEndian.PutUint32(b[68:], l.Expiration)
	return b
}

func parseImmutableLease(b []byte, cleartext bool) Lease {
	var l Lease
	l.Owner = binary.BigEndian.Uint32(b[0:])
	copy(l.RenewSecret[:], b[4:36])
	copy(l.CancelSecret[:], b[36:68])
	l.Expiration = binary.BigEndian.Uint32(b[68:])
	l.Cleartext = cleartext
	return l
}

func (l Lease) mutableBytes() []byte {
	b := make([]byte, mutableLeaseSize)
	binary.BigEndian.PutUint32(b[0:], l.Owner)
	binary.BigEndian.PutUint32(b[4:], l.Expiration)
	copy(b[8:], l.RenewSecret[:])
	copy(b[40:], l.CancelSecret[:])
	copy(b[72:], l.NodeID[:])
	return b
}

func parseMutableLease(b []byte, cleartext bool) Lease {
	var l Lease
	l.Owner = binary.BigEndian.Uint32(b[0:])
	l.Expiration = binary.BigEndian.Uint32(b[4:])
	copy(l.RenewSecret[:], b[8:40])
	copy(l.CancelSecret[:], b[40:72])
	copy(l.NodeID[:], b[72:92])
	l.Cleartext = cleartext
	return l
}

// forSchema turns a hashed lease into what a container of version v
// stores: version 1 keeps the secrets in clear.
func forSchema(v int, sec storage.LeaseSecrets, l Lease) Lease {
	if v == 1 {
		l.RenewSecret, l.CancelSecret, l.Cleartext = sec.Renew, sec.Cancel, true
	}
	return l
}
