//go:build race

package chk

const raceEnabled = true
