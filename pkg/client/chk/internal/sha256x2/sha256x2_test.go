package sha256x2

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func want(prefix, m []byte) [Size]byte {
	return sha256.Sum256(append(append([]byte(nil), prefix...), m...))
}

// TestSum2 compares against crypto/sha256 at every length around the block
// boundaries the head, middle and tail split at, with prefixes of 0 to 63 bytes.
func TestSum2(t *testing.T) {
	t.Logf("interleaved code available: %v", Available())
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 2*1100)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for _, pl := range []int{0, 1, 21, 22, 55, 56, 63} {
		prefix := buf[2000 : 2000+pl]
		for n := 0; n <= 300; n++ {
			a, b := buf[:n], buf[1100:1100+n]
			da, db := Sum2(prefix, a, b)
			if da != want(prefix, a) || db != want(prefix, b) {
				t.Fatalf("prefix %d, length %d: wrong digest", pl, n)
			}
		}
	}
}

// TestSum2Fallback: unequal lengths and long prefixes take the one-at-a-time path.
func TestSum2Fallback(t *testing.T) {
	long := make([]byte, 64)
	a, b := []byte("abc"), []byte("de")
	da, db := Sum2(long, a, b)
	if da != want(long, a) || db != want(long, b) {
		t.Fatal("wrong digest")
	}
}

func TestSum2Large(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := make([]byte, 43691), make([]byte, 43691)
	for i := range a {
		a[i], b[i] = byte(r.Uint32()), byte(r.Uint32())
	}
	p := []byte("18:allmydata_block_v1,")
	da, db := Sum2(p, a, b)
	if da != want(p, a) || db != want(p, b) {
		t.Fatal("wrong digest")
	}
}

func BenchmarkSum2(b *testing.B) {
	m1, m2 := make([]byte, 43691), make([]byte, 43691)
	p := []byte("18:allmydata_block_v1,")
	b.SetBytes(2 * int64(len(m1)))
	for b.Loop() {
		Sum2(p, m1, m2)
	}
}

func BenchmarkSHA256Twice(b *testing.B) {
	m1, m2 := make([]byte, 43691), make([]byte, 43691)
	p := []byte("18:allmydata_block_v1,")
	b.SetBytes(2 * int64(len(m1)))
	for b.Loop() {
		sum1(p, m1)
		sum1(p, m2)
	}
}

// TestWrite2 feeds two digests pieces of assorted lengths, together and
// alone, and compares each with crypto/sha256 of the whole.
func TestWrite2(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	src := make([]byte, 1<<16)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	for _, generic := range []bool{false, true} {
		if !generic && !Available() {
			continue
		}
		for trial := 0; trial < 200; trial++ {
			pa, pb := src[:r.IntN(70)], src[100:100+r.IntN(70)]
			x, y := newDigest(pa, generic), newDigest(pb, generic)
			ma, mb := append([]byte(nil), pa...), append([]byte(nil), pb...)
			for step := 0; step < 8; step++ {
				la, lb := r.IntN(300), r.IntN(300)
				if r.IntN(3) == 0 {
					lb = la
				}
				a, b := src[r.IntN(1000):][:la], src[2000+r.IntN(1000):][:lb]
				switch r.IntN(4) {
				case 0:
					x.Write(a)
					y.Write(b)
				default:
					Write2(x, y, a, b)
				}
				ma, mb = append(ma, a...), append(mb, b...)
			}
			if x.Sum() != sha256.Sum256(ma) || y.Sum() != sha256.Sum256(mb) {
				t.Fatalf("generic %v, trial %d: wrong digest", generic, trial)
			}
		}
	}
}

func BenchmarkWrite2Segment(b *testing.B) {
	seg := make([]byte, 131073)
	x, y := New([]byte("30:allmydata_crypttext_v1,")), New(nil)
	b.SetBytes(2 * int64(len(seg)))
	for b.Loop() {
		Write2(x, y, seg, seg)
	}
}
