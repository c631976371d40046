package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lafs/lafs/pkg/client/chk"
)

// OpenInput opens a file to upload, or spools standard input to an
// unlinked temporary file when path is "-" or empty, so it can be read
// twice. The caller closes the file.
func OpenInput(path string, stdio *IO) (*os.File, uint64, error) {
	if path == "" || path == "-" {
		return chk.Spool(stdio.In, "")
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, 0, fmt.Errorf("cannot read %s: %w", path, pe.Err)
		}
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a directory", path)
	}
	return f, uint64(st.Size()), nil
}
