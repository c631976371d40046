package mutable

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/hashtree"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/storage"
	"storj.io/infectious"
)

// DefaultMDMFSegmentSize is Tahoe's maximum segment size for MDMF files.
const DefaultMDMFSegmentSize = 128 << 10

// MDMF reserves fixed room for the variable-length fields before the share
// data, as Tahoe's writer does, so the data offset never moves.
const (
	mdmfPrivKeyRoom = 1220
	mdmfSigRoom     = 260
	mdmfVKRoom      = 292
	mdmfChainRoom   = (2 + hashtree.HashSize) * 8
)

// Params are the encoding of a new mutable file.
type Params struct {
	Needed, Total  int
	Format         int    // VersionSDMF or VersionMDMF
	MaxSegmentSize uint64 // MDMF only; DefaultMDMFSegmentSize when 0
	Seqnum         uint64 // 1 for a new file
	// Salt returns the random salt (IV) of each segment; crypto/rand when
	// nil. Tests set it to reproduce a known share.
	Salt func(segment int) []byte
}

// Built is an encoded mutable file: one share image per share number.
type Built struct {
	Cap    *caps.Cap
	Shares [][]byte
}

func (p Params) salt(i int) ([]byte, error) {
	if p.Salt != nil {
		return p.Salt(i), nil
	}
	b := make([]byte, saltSize)
	_, err := rand.Read(b)
	return b, err
}

// Build encrypts and encodes data as a mutable file signed with key,
// laying out every share as Tahoe's publisher does.
func Build(key *rsa.PrivateKey, data []byte, p Params) (*Built, error) {
	if p.Needed < 1 || p.Total < p.Needed || p.Total > 255 {
		return nil, fmt.Errorf("encoding %d-of-%d: want 1 <= k <= N <= 255", p.Needed, p.Total)
	}
	if p.Format != VersionSDMF && p.Format != VersionMDMF {
		return nil, fmt.Errorf("unknown mutable format %d", p.Format)
	}
	keys, err := caps.DeriveMutableKeys(key)
	if err != nil {
		return nil, err
	}
	privDER, _ := x509.MarshalPKCS8PrivateKey(key)
	vk, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	encPriv := make([]byte, len(privDER))
	wb, err := aes.NewCipher(keys.WriteKey)
	if err != nil {
		return nil, err
	}
	cipher.NewCTR(wb, make([]byte, aes.BlockSize)).XORKeyStream(encPriv, privDER)

	k := uint64(p.Needed)
	dlen := uint64(len(data))
	var segsize uint64
	nsegs := 1
	if p.Format == VersionSDMF {
		segsize = roundUp(dlen, k)
	} else {
		max := p.MaxSegmentSize
		if max == 0 {
			max = DefaultMDMFSegmentSize
		}
		segsize = roundUp(max, k)
		nsegs = int((dlen + segsize - 1) / segsize)
		if nsegs == 0 {
			nsegs = 1
		}
	}
	fec, err := infectious.NewFEC(p.Needed, p.Total)
	if err != nil {
		return nil, err
	}
	blocks := make([][]byte, p.Total)   // share data per share
	leaves := make([][][]byte, p.Total) // block hash leaves per share
	var iv []byte
	for i := 0; i < nsegs; i++ {
		start := uint64(i) * segsize
		end := min(start+segsize, dlen)
		plain := data[start:end]
		salt, err := p.salt(i)
		if err != nil {
			return nil, err
		}
		if len(salt) != saltSize {
			return nil, errors.New("salt must be 16 bytes")
		}
		if i == 0 {
			iv = salt
		}
		padded := make([]byte, roundUp(uint64(len(plain)), k))
		db, err := aes.NewCipher(caps.MutableDataKey(salt, keys.ReadKey))
		if err != nil {
			return nil, err
		}
		cipher.NewCTR(db, make([]byte, aes.BlockSize)).XORKeyStream(padded, plain)
		bl := uint64(len(padded)) / k
		for sh := 0; sh < p.Total; sh++ {
			b := make([]byte, bl)
			if bl > 0 {
				if err := fec.EncodeSingle(padded, b, sh); err != nil {
					return nil, fmt.Errorf("erasure coding: %w", err)
				}
			}
			if p.Format == VersionMDMF {
				blocks[sh] = append(append(blocks[sh], salt...), b...)
				leaves[sh] = append(leaves[sh], caps.TaggedHash(caps.TagBlock, append(append([]byte{}, salt...), b...), 0))
			} else {
				blocks[sh] = b
				leaves[sh] = append(leaves[sh], caps.TaggedHash(caps.TagBlock, b, 0))
			}
		}
	}
	trees := make([]hashtree.Tree, p.Total)
	roots := make([][]byte, p.Total)
	for sh := range trees {
		trees[sh] = hashtree.New(leaves[sh])
		roots[sh] = trees[sh].Root()
	}
	shareTree := hashtree.New(roots)

	// The signed header: version, seqnum, root hash, [IV,] k, N, segsize,
	// datalen.
	signed := []byte{byte(p.Format)}
	signed = binary.BigEndian.AppendUint64(signed, p.Seqnum)
	signed = append(signed, shareTree.Root()...)
	if p.Format == VersionSDMF {
		signed = append(signed, iv...)
	}
	signed = append(signed, byte(p.Needed), byte(p.Total))
	signed = binary.BigEndian.AppendUint64(signed, segsize)
	signed = binary.BigEndian.AppendUint64(signed, dlen)
	digest := sha256.Sum256(signed)
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256})
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}

	out := &Built{Shares: make([][]byte, p.Total)}
	for sh := 0; sh < p.Total; sh++ {
		chain := chainBytes(shareTree, p.Total, sh)
		bht := trees[sh].Bytes()
		if p.Format == VersionSDMF {
			out.Shares[sh] = layoutSDMF(signed, vk, sig, chain, bht, blocks[sh], encPriv)
		} else {
			out.Shares[sh], err = layoutMDMF(signed, vk, sig, chain, bht, blocks[sh], encPriv)
			if err != nil {
				return nil, err
			}
		}
	}
	if p.Format == VersionSDMF {
		out.Cap = caps.NewSSK(keys.WriteKey, keys.Fingerprint)
	} else {
		out.Cap = caps.NewMDMF(keys.WriteKey, keys.Fingerprint)
	}
	return out, nil
}

func roundUp(n, k uint64) uint64 {
	if n%k == 0 {
		return n
	}
	return n + k - n%k
}

// chainBytes is share sh's hash chain as Tahoe writes it for mutable
// files: the siblings on the leaf's path (not the leaf), ascending.
func chainBytes(t hashtree.Tree, total, sh int) []byte {
	needed := hashtree.Needed(total, sh)
	needed = needed[:len(needed)-1] // drop the leaf itself
	slices.Sort(needed)
	var out []byte
	for _, n := range needed {
		out = binary.BigEndian.AppendUint16(out, uint16(n))
		out = append(out, t[n]...)
	}
	return out
}

func layoutSDMF(signed, vk, sig, chain, bht, data, encPriv []byte) []byte {
	sigOff := uint64(sdmfHeaderLen + len(vk))
	chainOff := sigOff + uint64(len(sig))
	bhtOff := chainOff + uint64(len(chain))
	dataOff := bhtOff + uint64(len(bht))
	privOff := dataOff + uint64(len(data))
	eof := privOff + uint64(len(encPriv))
	b := append([]byte{}, signed...)
	b = binary.BigEndian.AppendUint32(b, uint32(sigOff))
	b = binary.BigEndian.AppendUint32(b, uint32(chainOff))
	b = binary.BigEndian.AppendUint32(b, uint32(bhtOff))
	b = binary.BigEndian.AppendUint32(b, uint32(dataOff))
	b = binary.BigEndian.AppendUint64(b, privOff)
	b = binary.BigEndian.AppendUint64(b, eof)
	for _, part := range [][]byte{vk, sig, chain, bht, data, encPriv} {
		b = append(b, part...)
	}
	return b
}

func layoutMDMF(signed, vk, sig, chain, bht, data, encPriv []byte) ([]byte, error) {
	privOff := uint64(mdmfHeaderLen)
	chainOff := privOff + uint64(len(encPriv))
	sigOff := chainOff + uint64(len(chain))
	vkOff := sigOff + uint64(len(sig))
	vkEnd := vkOff + uint64(len(vk))
	dataOff := uint64(mdmfHeaderLen + mdmfPrivKeyRoom + mdmfSigRoom + mdmfVKRoom + mdmfChainRoom)
	if vkEnd > dataOff {
		return nil, errors.New("MDMF: key, signature and hash chain do not fit before the share data")
	}
	bhtOff := dataOff + uint64(len(data))
	eof := bhtOff + uint64(len(bht))
	b := make([]byte, eof)
	copy(b, signed)
	o := mdmfSignedLen
	for _, v := range []uint64{privOff, chainOff, sigOff, vkOff, vkEnd, dataOff, bhtOff, eof} {
		binary.BigEndian.PutUint64(b[o:], v)
		o += 8
	}
	copy(b[privOff:], encPriv)
	copy(b[chainOff:], chain)
	copy(b[sigOff:], sig)
	copy(b[vkOff:], vk)
	copy(b[dataOff:], data)
	copy(b[bhtOff:], bht)
	return b, nil
}

// Target is a storage server a publish writes to, with the 20-byte seed
// its write enabler and lease secrets are derived from.
type Target struct {
	Storage   storage.Server
	LeaseSeed []byte
	Lease     storage.LeaseSecrets
}

// ErrExists means a share of this mutable file already exists where a new
// file was being created.
var ErrExists = errors.New("a share of this mutable file already exists")

// Create writes the shares of a new mutable file, share i to targets[i mod
// len(targets)] (callers pass servers in permuted order), to every server at
// once, each write under o.TransferTimeout. Each write checks that the share
// does not exist yet.
func Create(ctx context.Context, b *Built, targets []Target, o Options) error {
	if len(targets) == 0 {
		return errors.New("no storage servers to publish to")
	}
	var si storage.StorageIndex
	copy(si[:], b.Cap.StorageIndex)
	n := min(len(targets), len(b.Shares))
	batches := make([]map[uint64]storage.TestWriteVectors, n)
	for sh, share := range b.Shares {
		t := sh % len(targets)
		if batches[t] == nil {
			batches[t] = map[uint64]storage.TestWriteVectors{}
		}
		batches[t][uint64(sh)] = storage.TestWriteVectors{
			Test:  []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}},
			Write: []storage.WriteVector{{Offset: 0, Data: share}},
		}
	}
	rs := fanout.Ask(ctx, n, fanout.Options{Timeout: o.transferTimeout()}, func(ctx context.Context, i int) (storage.ReadTestWriteResult, error) {
		t := targets[i]
		var we [32]byte
		copy(we[:], caps.WriteEnabler(b.Cap.WriteKey, t.LeaseSeed))
		req := storage.ReadTestWriteRequest{TestWriteVectors: batches[i]}
		return t.Storage.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: we, Lease: t.Lease}, req)
	}, nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	written := 0
	var lastErr error
	for i, r := range rs {
		switch {
		case r.Err != nil:
			lastErr = fmt.Errorf("server %d of %d: %w", i+1, n, r.Err)
		case !r.Value.Success:
			return fmt.Errorf("shares %v: %w", shareNums(batches[i]), ErrExists)
		default:
			written += len(batches[i])
		}
	}
	if written < b.neededShares() {
		return fmt.Errorf("only %d of %d shares written: %w", written, len(b.Shares), lastErr)
	}
	return nil
}

func shareNums(m map[uint64]storage.TestWriteVectors) []int {
	var out []int
	for sh := range m {
		out = append(out, int(sh))
	}
	slices.Sort(out)
	return out
}

func (b *Built) neededShares() int {
	s, err := ParseShare(0, b.Shares[0])
	if err != nil {
		return len(b.Shares)
	}
	return s.Needed
}
