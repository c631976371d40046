package client

import (
	"reflect"
	"testing"
)

// Contiguous writes are sent in runs of at least chunk bytes; a gap or a
// jump back sends the pending run first.
func TestBatch(t *testing.T) {
	type sent struct {
		off  uint64
		data string
	}
	var b batch
	var got []sent
	flush := func() {
		got = append(got, sent{b.bufOff, string(b.buf)})
		b.buf = nil
	}
	b.add(0, []byte("ab"), 4, flush)
	b.add(2, []byte("c"), 4, flush)
	b.add(3, []byte("de"), 4, flush) // reaches 4: sent
	b.add(5, []byte("f"), 4, flush)
	b.add(10, []byte("g"), 4, flush) // gap: "f" sent first
	b.add(0, []byte("h"), 4, flush)  // back to 0: "g" sent first
	want := []sent{{0, "abcde"}, {5, "f"}, {10, "g"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent %v, want %v", got, want)
	}
	if b.bufOff != 0 || string(b.buf) != "h" {
		t.Errorf("pending %d %q", b.bufOff, b.buf)
	}
}
