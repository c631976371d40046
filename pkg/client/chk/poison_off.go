//go:build !race && !lafspoison

package chk

// poisonReleased: see poison_on.go.
const poisonReleased = false
