package chk

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/lafs/lafs/pkg/caps"
)

// ComputeCap returns the cap an upload of src (size bytes) with p would
// produce, touching no grid: a LIT cap for small files, else the CHK cap
// from a full encoding whose shares are discarded.
func ComputeCap(ctx context.Context, src io.ReaderAt, size uint64, p Params) (*caps.Cap, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if size <= LITMax {
		buf := make([]byte, size)
		if _, err := io.ReadFull(io.NewSectionReader(src, 0, int64(size)), buf); err != nil {
			return nil, fmt.Errorf("reading plaintext: %w", err)
		}
		return LITCap(buf)
	}
	r, err := Encode(ctx, src, size, p, Discard)
	if err != nil {
		return nil, err
	}
	return r.Cap, nil
}

// Spool copies a stream (such as standard input) to a temporary file so it
// can be read twice (key, then encryption). The caller closes the file; it
// is already unlinked, so nothing is left behind.
func Spool(r io.Reader, dir string) (*os.File, uint64, error) {
	f, err := os.CreateTemp(dir, "lafs-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spooling input: %w", err)
	}
	// Unlink at once: the open descriptor keeps the data until Close.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spooling input: %w", err)
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spooling input: %w", err)
	}
	return f, uint64(n), nil
}
