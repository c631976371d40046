package client

// batch gathers the writes of one share into runs of contiguous bytes, so
// that each server request carries a chunk rather than one encoder write.
// Uploads and repairs share it.
type batch struct {
	buf    []byte // the pending run
	bufOff uint64 // the share offset of buf
}

// add takes data written at off. flush is called (and must empty the
// batch, by sending buf from bufOff) before data when data does not
// continue the pending run, and after it once the run holds chunk bytes
// or more.
func (b *batch) add(off uint64, data []byte, chunk int, flush func()) {
	if len(b.buf) > 0 && b.bufOff+uint64(len(b.buf)) != off {
		flush()
	}
	if len(b.buf) == 0 {
		b.bufOff = off
	}
	b.buf = append(b.buf, data...)
	if len(b.buf) >= chunk {
		flush()
	}
}
