package mutable

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"io"
	"sort"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"storj.io/infectious"
)

// Verify checks what a share claims against the cap: the verification key
// hashes to the cap's fingerprint, the signature (RSA-PSS, SHA-256, 32-byte
// salt, as Tahoe signs) covers the signed header, the block hash tree is
// consistent and its root, with the share hash chain, hashes to the signed
// root hash.
func (s *Share) Verify(c *caps.Cap) error {
	if subtle.ConstantTimeCompare(caps.PubkeyFingerprint(s.VerificationKey), c.Fingerprint) != 1 {
		return corrupt("share %d: verification key does not match the cap's fingerprint", s.Num)
	}
	pub, err := x509.ParsePKIXPublicKey(s.VerificationKey)
	if err != nil {
		return corrupt("share %d: verification key: %v", s.Num, err)
	}
	rpub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return corrupt("share %d: verification key is not RSA", s.Num)
	}
	digest := sha256.Sum256(s.Signed)
	if err := rsa.VerifyPSS(rpub, crypto.SHA256, digest[:], s.Signature, &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}); err != nil {
		return corrupt("share %d: bad signature", s.Num)
	}
	if err := s.BlockHashTree.Verify(s.BlockHashTree.Root()); err != nil {
		return corrupt("share %d: block hash tree: %v", s.Num, err)
	}
	if err := hashtree.VerifyChain(s.RootHash, s.Total, s.Num, s.BlockHashTree.Root(), s.ShareHashChain); err != nil {
		return corrupt("share %d: share hash chain: %v", s.Num, err)
	}
	return nil
}

// checkBlock verifies segment i's block of the share.
func (s *Share) checkBlock(i int) (salt, blk []byte, err error) {
	salt, blk, err = s.block(i)
	if err != nil {
		return nil, nil, err
	}
	var leaf []byte
	if s.Version == VersionMDMF {
		leaf = caps.TaggedHash(caps.TagBlock, append(append([]byte{}, salt...), blk...), 0)
	} else {
		leaf = caps.TaggedHash(caps.TagBlock, blk, 0)
	}
	if subtle.ConstantTimeCompare(leaf, s.BlockHashTree.Leaf(i)) != 1 {
		return nil, nil, corrupt("share %d: block %d does not match its block hash tree", s.Num, i)
	}
	return salt, blk, nil
}

// NotEnoughSharesError says no version of the file has k good shares.
type NotEnoughSharesError struct {
	Found, Needed int
	Bad           map[int]error
}

func (e *NotEnoughSharesError) Error() string {
	msg := fmt.Sprintf("not enough good shares of the newest version: found %d, need %d", e.Found, e.Needed)
	for _, err := range e.Bad {
		return msg + fmt.Sprintf(" (%v, and %d more rejected)", err, len(e.Bad)-1)
	}
	return msg
}

// Decode picks the newest version (highest seqnum, then root hash) among
// shares that pass Verify and have at least k of their kind, decodes and
// decrypts it into w. onBad, when set, hears about each rejected share.
func Decode(c *caps.Cap, shares []*Share, w io.Writer, onBad func(shnum int, err error)) error {
	if c.ReadKey == nil {
		return fmt.Errorf("a %s cap cannot read the file's contents", c.Kind)
	}
	bad := map[int]error{}
	versions := map[VersionKey][]*Share{}
	for _, s := range shares {
		if err := s.Verify(c); err != nil {
			bad[s.Num] = err
			if onBad != nil {
				onBad(s.Num, err)
			}
			continue
		}
		versions[s.Key()] = append(versions[s.Key()], s)
	}
	var keys []VersionKey
	for k, ss := range versions {
		if len(ss) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].Seqnum != keys[b].Seqnum {
			return keys[a].Seqnum > keys[b].Seqnum
		}
		return keys[a].RootHash > keys[b].RootHash
	})
	best := 0
	for _, k := range keys {
		ss := distinct(versions[k])
		if len(ss) > best {
			best = len(ss)
		}
		if len(ss) >= ss[0].Needed {
			return decodeVersion(c, ss, w, bad, onBad)
		}
	}
	needed := 0
	if len(shares) > 0 {
		needed = shares[0].Needed
	}
	return &NotEnoughSharesError{Found: best, Needed: needed, Bad: bad}
}

// distinct keeps one share per share number, in ascending order.
func distinct(ss []*Share) []*Share {
	sort.Slice(ss, func(a, b int) bool { return ss[a].Num < ss[b].Num })
	out := ss[:0:0]
	for _, s := range ss {
		if len(out) == 0 || out[len(out)-1].Num != s.Num {
			out = append(out, s)
		}
	}
	return out
}

func decodeVersion(c *caps.Cap, ss []*Share, w io.Writer, bad map[int]error, onBad func(int, error)) error {
	first := ss[0]
	k := first.Needed
	fec, err := infectious.NewFEC(k, first.Total)
	if err != nil {
		return err
	}
	for i := 0; i < first.NumSegments(); i++ {
		plain, padded, bl := first.segment(i)
		var pieces []infectious.Share
		var salt []byte
		for _, s := range ss {
			if len(pieces) == k {
				break
			}
			if _, isBad := bad[s.Num]; isBad {
				continue
			}
			sl, blk, err := s.checkBlock(i)
			if err == nil && uint64(len(blk)) != bl {
				err = corrupt("share %d: block %d is %d bytes, want %d", s.Num, i, len(blk), bl)
			}
			if err != nil {
				bad[s.Num] = err
				if onBad != nil {
					onBad(s.Num, err)
				}
				continue
			}
			if salt == nil {
				salt = sl
			} else if subtle.ConstantTimeCompare(salt, sl) != 1 {
				return corrupt("shares disagree on segment %d's salt", i)
			}
			pieces = append(pieces, infectious.Share{Number: s.Num, Data: blk})
		}
		if len(pieces) < k {
			return &NotEnoughSharesError{Found: len(pieces), Needed: k, Bad: bad}
		}
		seg := make([]byte, padded)
		if err := fec.Rebuild(pieces, func(p infectious.Share) { copy(seg[uint64(p.Number)*bl:], p.Data) }); err != nil {
			return fmt.Errorf("erasure decoding: %w", err)
		}
		ct := seg[:plain]
		block, err := aes.NewCipher(caps.MutableDataKey(salt, c.ReadKey))
		if err != nil {
			return err
		}
		cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(ct, ct)
		if _, err := w.Write(ct); err != nil {
			return fmt.Errorf("writing plaintext: %w", err)
		}
	}
	return nil
}
