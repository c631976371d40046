package sha256x2

import (
	"crypto/sha256"
	"testing"
)

// FuzzSum2 checks Sum2 and Write2 against crypto/sha256 on arbitrary
// messages: the two halves of data (the second trimmed to the length of
// the first when same is set), after a prefix of up to 63 bytes, and fed
// to Write2 in two pieces split at cut.
func FuzzSum2(f *testing.F) {
	f.Add([]byte("18:allmydata_block,"), []byte("abcdefgh"), true, uint16(3))
	f.Add([]byte{}, make([]byte, 130), true, uint16(64))
	f.Add(make([]byte, 63), make([]byte, 257), false, uint16(200))
	f.Fuzz(func(t *testing.T, prefix, data []byte, same bool, cut uint16) {
		if len(prefix) >= blockSize {
			prefix = prefix[:blockSize-1]
		}
		a, b := data[:len(data)/2], data[len(data)/2:]
		if same {
			b = b[:len(a)]
		}
		cat := func(p, m []byte) [Size]byte { return sha256.Sum256(append(append([]byte(nil), p...), m...)) }
		da, db := Sum2(prefix, a, b)
		if da != cat(prefix, a) || db != cat(prefix, b) {
			t.Fatal("Sum2: wrong digest")
		}
		x, y := New(prefix), New(nil)
		c := min(int(cut), len(a))
		Write2(x, y, a[:c], b)
		Write2(x, y, a[c:], nil)
		if x.Sum() != cat(prefix, a) || y.Sum() != cat(nil, b) {
			t.Fatal("Write2: wrong digest")
		}
	})
}
