// Package sha256x2 computes two SHA-256 digests at once: Sum2 of two
// messages of the same length behind one prefix of under 64 bytes (the
// netstring tag of a Tahoe tagged hash), and Digest/Write2 of two running
// hashes fed side by side. With the x86 SHA extensions it interleaves the
// two compression chains on one core, which costs little more than one
// chain, since a single chain runs at the latency of its round instruction
// (about 1.85x the throughput of crypto/sha256 on the project's machine).
// Elsewhere it falls back to crypto/sha256.
//
// It owns nothing but the arithmetic: the tagged-hash conventions (SHA-256d,
// netstring tags) stay in pkg/caps, and the encoder in pkg/client/chk
// chooses what to pair.
package sha256x2

import (
	"crypto/sha256"
	"encoding/binary"
)

// Size is the length of a digest.
const Size = sha256.Size

const blockSize = 64

var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// Available reports whether the interleaved code runs on this machine
// (else Sum2 computes the two digests one after the other).
func Available() bool { return haveSHA }

// Sum2 returns SHA-256(prefix || a) and SHA-256(prefix || b). a and b must
// have the same length and prefix must be shorter than 64 bytes; otherwise
// (and where the SHA extensions are missing) it hashes them one at a time.
func Sum2(prefix, a, b []byte) (da, db [Size]byte) {
	if !haveSHA || len(a) != len(b) || len(prefix) >= blockSize {
		return sum1(prefix, a), sum1(prefix, b)
	}
	sa, sb := iv, iv
	total := uint64(len(prefix) + len(a))
	// The first block: the prefix and the head of each message.
	var bufA, bufB [2 * blockSize]byte
	head := min(blockSize-len(prefix), len(a))
	if len(prefix)+len(a) >= blockSize {
		copy(bufA[:], prefix)
		copy(bufA[len(prefix):], a[:head])
		copy(bufB[:], prefix)
		copy(bufB[len(prefix):], b[:head])
		blocks2(&sa, &sb, &bufA[0], &bufB[0], 1)
		a, b = a[head:], b[head:]
		prefix = nil
	}
	// The middle, straight from the messages.
	if n := len(a) / blockSize; n > 0 {
		blocks2(&sa, &sb, &a[0], &b[0], n)
		a, b = a[n*blockSize:], b[n*blockSize:]
	}
	// The rest and the padding: one or two blocks.
	tail := pad(bufA[:0], prefix, a, total)
	pad(bufB[:0], prefix, b, total)
	blocks2(&sa, &sb, &bufA[0], &bufB[0], len(tail)/blockSize)
	return digest(&sa), digest(&sb)
}

// pad appends prefix, rest (together under one block) and SHA-256's padding
// for a message of total bytes to buf.
func pad(buf, prefix, rest []byte, total uint64) []byte {
	buf = append(buf, prefix...)
	buf = append(buf, rest...)
	buf = append(buf, 0x80)
	for len(buf)%blockSize != blockSize-8 {
		buf = append(buf, 0)
	}
	return binary.BigEndian.AppendUint64(buf, total*8)
}

func digest(s *[8]uint32) (d [Size]byte) {
	for i, v := range s {
		binary.BigEndian.PutUint32(d[4*i:], v)
	}
	return d
}

func sum1(prefix, m []byte) (d [Size]byte) {
	h := sha256.New()
	h.Write(prefix)
	h.Write(m)
	h.Sum(d[:0])
	return d
}
