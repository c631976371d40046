//go:build race || lafspoison

package chk

// poisonReleased: in race-detector builds (and with the lafspoison tag)
// every segment buffer is overwritten when its last holder releases it, so
// a sink that reads a block after releasing it sends garbage, which the
// hashes on download catch, instead of silently reading bytes that happen
// to be still intact.
const poisonReleased = true
