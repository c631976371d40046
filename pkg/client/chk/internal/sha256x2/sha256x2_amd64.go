//go:build amd64 && !purego

package sha256x2

//go:generate go run gen.go

// blocks2 runs the SHA-256 compression function over n 64-byte blocks at a
// into state sa and over n blocks at b into sb.
//
//go:noescape
func blocks2(sa, sb *[8]uint32, a, b *byte, n int)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// haveSHA: SSSE3 and SSE4.1 (leaf 1, ECX bits 9 and 19) and the SHA
// extensions (leaf 7, EBX bit 29).
var haveSHA = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	_, b7, _, _ := cpuid(7, 0)
	return c1&(1<<9) != 0 && c1&(1<<19) != 0 && b7&(1<<29) != 0
}()
