package lafscmd

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
)

// BenchmarkDescribe1000 is ls's work on a parsed directory of 1,000 small
// files: describing each entry and sorting them.
func BenchmarkDescribe1000(b *testing.B) {
	es := make([]dirnode.Entry, 1000)
	for i := range es {
		key := []byte(fmt.Sprintf("%016d%032d", i, i))
		c, err := caps.NewCHK(key[:16], key[16:], 3, 10, 4096)
		if err != nil {
			b.Fatal(err)
		}
		es[i] = dirnode.Entry{Name: fmt.Sprintf("f%05d", 999-i), ROCap: c.String(), Metadata: dirnode.NewMetadata(time.Unix(1764590000, int64(i)*1000))}
	}
	b.ReportAllocs()
	for b.Loop() {
		out := make([]lsEntry, 0, len(es))
		for _, e := range es {
			out = append(out, describeEntry(e))
		}
		sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	}
}
