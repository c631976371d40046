package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// bigDir is the t=json of a directory of n files, in Tahoe's layout.
func bigDir(n int) []byte {
	var b strings.Builder
	b.WriteString("[\n \"dirnode\",\n {\n  \"children\": {\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `   "file-%05d.txt": ["filenode", {"mutable": false, "format": "CHK", "size": %d, "metadata": {"tahoe": {"linkcrtime": 1796116809.7237852, "linkmotime": 1796116894.1379645}}, "ro_uri": "URI:CHK:lymtkgpqyarmrs3ji2lnsj7a3i:eguowx4odeqthybux5gmtfpfaitkrijeb72vgjm2xr5kerfdbn5q:2:4:%d", "verify_uri": "URI:CHK-Verifier:2u4zatmpbkadufo5wud3d3yhe4:eguowx4odeqthybux5gmtfpfaitkrijeb72vgjm2xr5kerfdbn5q:2:4:%d"}]`, i, i, i, i)
	}
	b.WriteString("\n  },\n  \"rw_uri\": \"URI:DIR2:a:b\",\n  \"mutable\": true\n }\n]\n")
	return []byte(b.String())
}

func BenchmarkParseNode(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		data := bigDir(n)
		b.Run(fmt.Sprintf("children=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				node, err := ParseNode(data)
				if err != nil || len(node.Children) != n {
					b.Fatal(err)
				}
				_ = node.Entries()
			}
		})
	}
}

func TestParseNodeLinear(t *testing.T) {
	n, err := ParseNode(bigDir(5000))
	if err != nil || len(n.Entries()) != 5000 {
		t.Fatalf("%d children, %v", len(n.Children), err)
	}
}
