package webapi

import (
	"bytes"
	"errors"
	"sync"
	"testing"
)

// slowWriter is a client connection that reads nothing until released
// (when hold is set) and can fail.
type slowWriter struct {
	hold   chan struct{}
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	failAt int // fail the write with this number (1-based), 0: never
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.hold != nil {
		<-w.hold
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.failAt > 0 && w.writes >= w.failAt {
		return 0, errors.New("connection reset")
	}
	return w.buf.Write(p)
}

// TestWriteBehind: what is written goes on to the slow writer whole and in
// order, in pieces of at most the buffer size, without the writer waiting
// for each; a failure of the slow writer fails a later Write and Close.
func TestWriteBehind(t *testing.T) {
	var want bytes.Buffer
	sw := &slowWriter{hold: make(chan struct{})}
	wb := newWriteBehind(sw, 8, 1000)
	// Six pieces (some writes span two) fit in the buffers: every Write
	// returns while the client reads nothing.
	for i := 0; i < 4; i++ {
		p := bytes.Repeat([]byte{byte('a' + i)}, 500+i*300)
		want.Write(p)
		if n, err := wb.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	close(sw.hold)
	// More than the buffers hold: Write waits for the client.
	p := bytes.Repeat([]byte("z"), 20_000)
	want.Write(p)
	if n, err := wb.Write(p); n != len(p) || err != nil {
		t.Fatalf("a long write: %d, %v", n, err)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sw.buf.Bytes(), want.Bytes()) {
		t.Fatalf("%d bytes arrived, %d written", sw.buf.Len(), want.Len())
	}

	failing := &slowWriter{failAt: 2}
	wb = newWriteBehind(failing, 2, 100)
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		_, err = wb.Write(make([]byte, 100))
	}
	if err == nil || wb.Close() == nil {
		t.Fatalf("a failed client: Write %v, Close %v", err, wb.Close())
	}
}
