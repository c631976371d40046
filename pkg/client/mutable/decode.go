package mutable

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
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
	// Found is the most good shares (passing every check) of one version;
	// Needed is k.
	Found, Needed int
	// Bad says why each rejected share number was rejected.
	Bad map[int]error
	// Servers and Answered count the servers asked and those that
	// answered (both 0 when no servers were asked, as in Decode).
	Servers, Answered int
}

// Error says how many good shares were found, how many are needed, and why
// shares were rejected; when every share found was rejected it says so
// rather than counting them as found.
func (e *NotEnoughSharesError) Error() string {
	var msg string
	switch {
	case e.Found == 0 && len(e.Bad) > 0:
		msg = fmt.Sprintf("no good share of this mutable file: %d share(s) found and all rejected as corrupt", len(e.Bad))
		if e.Needed > 0 {
			msg += fmt.Sprintf(" (need %d good ones)", e.Needed)
		}
	case e.Found == 0:
		msg = "no share of this mutable file was found"
	default:
		msg = fmt.Sprintf("not enough good shares of the newest version: found %d, need %d", e.Found, e.Needed)
	}
	if e.Servers > 0 {
		msg += fmt.Sprintf(" on %d server(s), %d of them answering", e.Servers, e.Answered)
	}
	if len(e.Bad) == 0 {
		return msg
	}
	first := -1
	for n := range e.Bad {
		if first < 0 || n < first {
			first = n
		}
	}
	if e.Found == 0 {
		if len(e.Bad) == 1 {
			return msg + fmt.Sprintf(": %v", e.Bad[first])
		}
		return msg + fmt.Sprintf(": %v, and %d more", e.Bad[first], len(e.Bad)-1)
	}
	return msg + fmt.Sprintf(" (%d more rejected as corrupt: %v)", len(e.Bad), e.Bad[first])
}

// DecodeShares parses raw share data (what a storage server's mutable
// container holds, keyed by share number) and decodes it as Decode does.
// Shares that do not parse are rejected like shares that fail Verify.
func DecodeShares(c *caps.Cap, raw map[int][]byte, w io.Writer, onBad func(shnum int, err error)) error {
	nums := make([]int, 0, len(raw))
	for n := range raw {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var shares []*Share
	bad := map[int]error{}
	for _, n := range nums {
		s, err := ParseShare(n, raw[n])
		if err != nil {
			bad[n] = fmt.Errorf("share %d: %w", n, err)
			if onBad != nil {
				onBad(n, bad[n])
			}
			continue
		}
		shares = append(shares, s)
	}
	if len(shares) == 0 {
		return &NotEnoughSharesError{Bad: bad}
	}
	err := Decode(c, shares, w, onBad)
	var ne *NotEnoughSharesError
	if errors.As(err, &ne) {
		for n, e := range bad {
			if _, ok := ne.Bad[n]; !ok {
				if ne.Bad == nil {
					ne.Bad = map[int]error{}
				}
				ne.Bad[n] = e
			}
		}
	}
	return err
}

// rejections records rejected shares: by identity, so that a bad share of
// one version does not exclude the same share number of another, and by
// number for the error reported.
type rejections struct {
	shares map[*Share]bool
	byNum  map[int]error
	onBad  func(*Share, error)
}

func (r *rejections) reject(s *Share, err error) {
	r.shares[s] = true
	r.byNum[s.Num] = err
	if r.onBad != nil {
		r.onBad(s, err)
	}
}

// Decode picks the newest version (highest seqnum, then root hash) among
// shares that pass Verify and have at least k of their kind, decodes and
// decrypts it into w. When a version's shares turn out to hold too few good
// blocks, the next older version with k good shares is tried. onBad, when
// set, hears about each rejected share.
func Decode(c *caps.Cap, shares []*Share, w io.Writer, onBad func(shnum int, err error)) error {
	return decode(c, shares, w, func(s *Share, err error) {
		if onBad != nil {
			onBad(s.Num, err)
		}
	})
}

// decode is Decode reporting rejected shares by identity.
func decode(c *caps.Cap, shares []*Share, w io.Writer, onBad func(*Share, error)) error {
	if c.ReadKey == nil {
		return fmt.Errorf("a %s cap cannot read the file's contents", c.Kind)
	}
	bad := &rejections{shares: map[*Share]bool{}, byNum: map[int]error{}, onBad: onBad}
	// Shares are grouped by their whole signed prefix, as Tahoe groups
	// them by version info: one group agrees on seqnum, root hash, salt,
	// encoding, segment size and length.
	versions := map[string][]*Share{}
	for _, s := range shares {
		if err := s.Verify(c); err != nil {
			bad.reject(s, err)
			continue
		}
		versions[string(s.Signed)] = append(versions[string(s.Signed)], s)
	}
	var keys []string
	for k := range versions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		x, y := versions[keys[a]][0], versions[keys[b]][0]
		if x.Seqnum != y.Seqnum {
			return x.Seqnum > y.Seqnum
		}
		if d := bytes.Compare(x.RootHash, y.RootHash); d != 0 {
			return d > 0
		}
		return keys[a] > keys[b]
	})
	best, needed := 0, 0
	if len(shares) > 0 {
		needed = shares[0].Needed
	}
	for _, k := range keys {
		ss := distinct(versions[k])
		needed = ss[0].Needed
		if len(ss) < ss[0].Needed {
			best = max(best, len(ss))
			continue
		}
		// Blocks are checked before anything is written, so a version
		// that fails here has written nothing and an older one may be
		// tried.
		plain, err := decodeVersion(c, ss, bad)
		if err != nil {
			var ne *NotEnoughSharesError
			if errors.As(err, &ne) {
				good := 0
				for _, s := range ss {
					if !bad.shares[s] {
						good++
					}
				}
				best = max(best, good)
				continue
			}
			return err
		}
		for _, seg := range plain {
			if _, err := w.Write(seg); err != nil {
				return fmt.Errorf("writing plaintext: %w", err)
			}
		}
		return nil
	}
	return &NotEnoughSharesError{Found: best, Needed: needed, Bad: bad.byNum}
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

// decodeVersion decodes and decrypts every segment of one version from its
// verified shares, returning the plaintext segments.
func decodeVersion(c *caps.Cap, ss []*Share, bad *rejections) ([][]byte, error) {
	first := ss[0]
	k := first.Needed
	fec, err := infectious.NewFEC(k, first.Total)
	if err != nil {
		return nil, fmt.Errorf("erasure code %d-of-%d: %w", k, first.Total, err)
	}
	var out [][]byte
	for i := 0; i < first.NumSegments(); i++ {
		plain, padded, bl := first.segment(i)
		var pieces []infectious.Share
		var salt []byte
		for _, s := range ss {
			if len(pieces) == k {
				break
			}
			if bad.shares[s] {
				continue
			}
			sl, blk, err := s.checkBlock(i)
			if err == nil && uint64(len(blk)) != bl {
				err = corrupt("share %d: block %d is %d bytes, want %d", s.Num, i, len(blk), bl)
			}
			if err != nil {
				bad.reject(s, err)
				continue
			}
			if salt == nil {
				salt = sl
			} else if subtle.ConstantTimeCompare(salt, sl) != 1 {
				return nil, corrupt("shares disagree on segment %d's salt", i)
			}
			pieces = append(pieces, infectious.Share{Number: s.Num, Data: blk})
		}
		if len(pieces) < k {
			return nil, &NotEnoughSharesError{Found: len(pieces), Needed: k, Bad: bad.byNum}
		}
		seg := make([]byte, padded)
		if err := fec.Rebuild(pieces, func(p infectious.Share) { copy(seg[uint64(p.Number)*bl:], p.Data) }); err != nil {
			return nil, fmt.Errorf("erasure decoding segment %d: %w", i, err)
		}
		ct := seg[:plain]
		block, err := aes.NewCipher(caps.MutableDataKey(salt, c.ReadKey))
		if err != nil {
			return nil, fmt.Errorf("segment %d key: %w", i, err)
		}
		cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(ct, ct)
		out = append(out, ct)
	}
	return out, nil
}
