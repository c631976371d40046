package dirnode

import (
	"fmt"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
)

// realisticDir is what 'cp -r' of n small files makes: CHK read caps, no
// write caps, Tahoe's link times.
func realisticDir(b *testing.B, n int) ([]byte, []byte) {
	b.Helper()
	wk := []byte("0123456789abcdef")
	es := make([]Entry, n)
	for i := range es {
		key := []byte(fmt.Sprintf("%016d%032d", i, i))
		c, err := caps.NewCHK(key[:16], key[16:], 3, 10, 4096)
		if err != nil {
			b.Fatal(err)
		}
		es[i] = Entry{Name: fmt.Sprintf("f%05d", i), ROCap: c.String(), Metadata: NewMetadata(time.Unix(1764590000, int64(i)*1000))}
	}
	packed, err := Pack(es, wk)
	if err != nil {
		b.Fatal(err)
	}
	return packed, wk
}

func BenchmarkParse1000Files(b *testing.B) {
	packed, wk := realisticDir(b, 1000)
	b.SetBytes(int64(len(packed)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(packed, wk); err != nil {
			b.Fatal(err)
		}
	}
}
