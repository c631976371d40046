//go:build !amd64 || purego

package sha256x2

const haveSHA = false

func blocks2(sa, sb *[8]uint32, a, b *byte, n int) { panic("sha256x2: no interleaved code here") }
