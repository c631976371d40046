package mutable

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// ErrUncoordinated means another writer changed the file between our read
// of it and our write: nothing of ours replaced their version. Read again
// and retry.
var ErrUncoordinated = errors.New("uncoordinated write: the file changed while we were writing it; read it again and retry")

// ErrReadOnly is returned when a read cap is used to write.
var ErrReadOnly = errors.New("this is a read-only cap: it cannot modify the file")

// held is one share found on one server.
type held struct {
	target int
	share  *Share
	raw    []byte
}

// servermap reads every share of the file from every target.
func servermap(ctx context.Context, si storage.StorageIndex, targets []Target) ([]held, error) {
	var out []held
	for i, t := range targets {
		nums, err := t.Storage.ListMutableShares(ctx, si)
		if err != nil {
			continue
		}
		for _, n := range nums {
			b, err := t.Storage.ReadMutableShareChunk(ctx, si, n, 0, maxShareRead)
			if err != nil {
				continue
			}
			s, err := ParseShare(n, b)
			if err != nil {
				continue
			}
			out = append(out, held{target: i, share: s, raw: b})
		}
	}
	return out, ctx.Err()
}

// checkstring is the prefix a test vector compares to be sure a share is
// still the version we read: version, seqnum, root hash (and the IV in
// SDMF).
func checkstring(s *Share, raw []byte) []byte {
	n := 1 + 8 + 32
	if s.Version == VersionSDMF {
		n += saltSize
	}
	return raw[:n]
}

// privateKey recovers the file's signing key from a share: the encrypted
// private key decrypts with the writekey, and its public half must hash to
// the cap's fingerprint.
func privateKey(c *caps.Cap, s *Share) (*rsa.PrivateKey, error) {
	der := make([]byte, len(s.EncPrivKey))
	b, err := aes.NewCipher(c.WriteKey)
	if err != nil {
		return nil, err
	}
	cipher.NewCTR(b, make([]byte, aes.BlockSize)).XORKeyStream(der, s.EncPrivKey)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, corrupt("share %d: encrypted private key does not decrypt with the writekey", s.Num)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, corrupt("share %d: private key is not RSA", s.Num)
	}
	pub, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil || subtle.ConstantTimeCompare(caps.PubkeyFingerprint(pub), c.Fingerprint) != 1 {
		return nil, corrupt("share %d: private key does not match the cap", s.Num)
	}
	return rk, nil
}

// Overwrite replaces the contents of the mutable file of writecap c with
// data, as a new version (sequence number + 1) in the file's own format and
// encoding. Every share is rewritten where it is, each write guarded by a
// test that the share still holds the version we read: if another writer
// got there first, Overwrite fails with ErrUncoordinated. Share numbers
// found nowhere are placed on servers holding none, in permuted order.
func Overwrite(ctx context.Context, c *caps.Cap, data []byte, targets []Target) error {
	if c.WriteKey == nil {
		return ErrReadOnly
	}
	var si storage.StorageIndex
	copy(si[:], c.StorageIndex)
	found, err := servermap(ctx, si, targets)
	if err != nil {
		return err
	}
	var good []held
	for _, h := range found {
		if h.share.Verify(c) == nil {
			good = append(good, h)
		}
	}
	if len(good) == 0 {
		return fmt.Errorf("no valid share of this mutable file was found on %d servers", len(targets))
	}
	newest := good[0].share
	for _, h := range good[1:] {
		s := h.share
		if s.Seqnum > newest.Seqnum || s.Seqnum == newest.Seqnum && string(s.RootHash) > string(newest.RootHash) {
			newest = s
		}
	}
	key, err := privateKey(c, newest)
	if err != nil {
		return err
	}
	b, err := Build(key, data, Params{Needed: newest.Needed, Total: newest.Total, Format: newest.Version, Seqnum: newest.Seqnum + 1, MaxSegmentSize: newest.SegmentSize})
	if err != nil {
		return err
	}
	// Where each share number goes: where it is now (every copy), else a
	// server without shares of this file.
	where := map[int][]held{}
	busy := map[int]bool{}
	for _, h := range found {
		where[h.share.Num] = append(where[h.share.Num], h)
		busy[h.target] = true
	}
	next := 0
	writes := 0
	for sh := range b.Shares {
		copies := where[sh]
		if len(copies) == 0 {
			for next < len(targets) && busy[next] {
				next++
			}
			if next == len(targets) {
				continue // nowhere new to put it
			}
			copies = []held{{target: next}}
			busy[next] = true
		}
		for _, h := range copies {
			test := []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}}
			if h.share != nil {
				cs := checkstring(h.share, h.raw)
				test = []storage.TestVector{{Offset: 0, Size: uint64(len(cs)), Specimen: cs}}
			}
			t := targets[h.target]
			var we [32]byte
			copy(we[:], caps.WriteEnabler(c.WriteKey, t.LeaseSeed))
			newLen := uint64(len(b.Shares[sh]))
			req := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
				uint64(sh): {Test: test, Write: []storage.WriteVector{{Offset: 0, Data: b.Shares[sh]}}, NewLength: &newLen},
			}}
			res, err := t.Storage.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: we, Lease: t.Lease}, req)
			if err != nil {
				continue
			}
			if !res.Success {
				return ErrUncoordinated
			}
			writes++
		}
	}
	if writes < newest.Needed {
		return fmt.Errorf("only %d shares of the new version were written, %d are needed to read it", writes, newest.Needed)
	}
	return nil
}
