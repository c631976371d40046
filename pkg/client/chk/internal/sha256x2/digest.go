package sha256x2

import (
	"crypto/sha256"
	"hash"
)

// Digest is a running SHA-256 of one message. Write2 feeds two of them
// together, interleaving their compression where both have whole blocks
// to do; a lone Write (or the blocks one side has and the other has not)
// runs that side alone.
type Digest struct {
	s   [8]uint32
	buf [blockSize]byte
	n   int    // bytes in buf
	len uint64 // bytes written
	// generic is crypto/sha256, used where the SHA extensions are missing.
	generic hash.Hash
}

// New returns a Digest that has been written prefix.
func New(prefix []byte) *Digest { return newDigest(prefix, !haveSHA) }

func newDigest(prefix []byte, generic bool) *Digest {
	d := &Digest{s: iv}
	if generic {
		d.generic = sha256.New()
	}
	d.Write(prefix)
	return d
}

// Write adds p to the message.
func (d *Digest) Write(p []byte) {
	if d.generic != nil {
		d.generic.Write(p)
		return
	}
	d.len += uint64(len(p))
	p = d.fill(p)
	if d.n == blockSize {
		d.alone(d.buf[:])
		d.n = 0
	}
	if n := len(p) / blockSize; n > 0 {
		d.alone(p[:n*blockSize])
		p = p[n*blockSize:]
	}
	if len(p) > 0 { // else the buffer keeps what it holds
		d.n = copy(d.buf[:], p)
	}
}

// Write2 is x.Write(a) and y.Write(b), the two computed together.
func Write2(x, y *Digest, a, b []byte) {
	if x.generic != nil || y.generic != nil || x == y {
		x.Write(a)
		y.Write(b)
		return
	}
	x.len += uint64(len(a))
	y.len += uint64(len(b))
	a, b = x.fill(a), y.fill(b)
	switch xf, yf := x.n == blockSize, y.n == blockSize; {
	case xf && yf:
		blocks2(&x.s, &y.s, &x.buf[0], &y.buf[0], 1)
		x.n, y.n = 0, 0
	case xf:
		x.alone(x.buf[:])
		x.n = 0
	case yf:
		y.alone(y.buf[:])
		y.n = 0
	}
	// A buffer still partial means its input ran out: min is then 0.
	if n := min(len(a), len(b)) / blockSize; n > 0 {
		blocks2(&x.s, &y.s, &a[0], &b[0], n)
		a, b = a[n*blockSize:], b[n*blockSize:]
	}
	for _, z := range []struct {
		d *Digest
		p []byte
	}{{x, a}, {y, b}} {
		p := z.p
		if len(p) == 0 {
			continue // keeps what its buffer holds
		}
		if n := len(p) / blockSize; n > 0 {
			z.d.alone(p[:n*blockSize])
			p = p[n*blockSize:]
		}
		z.d.n = copy(z.d.buf[:], p)
	}
}

// fill tops up the buffer of a digest that has one partly filled and
// returns what is left of p.
func (d *Digest) fill(p []byte) []byte {
	if d.n == 0 {
		return p
	}
	k := copy(d.buf[d.n:], p)
	d.n += k
	return p[k:]
}

// alone compresses whole blocks of p into d alone (the second chain works
// on a scratch state).
func (d *Digest) alone(p []byte) {
	scratch := d.s
	blocks2(&d.s, &scratch, &p[0], &p[0], len(p)/blockSize)
}

// Sum returns the digest of what was written. d is left unchanged.
func (d *Digest) Sum() (out [Size]byte) {
	if d.generic != nil {
		d.generic.Sum(out[:0])
		return out
	}
	c := *d
	var tail [2 * blockSize]byte
	t := pad(tail[:0], nil, c.buf[:c.n], c.len)
	c.alone(t)
	return digest(&c.s)
}
