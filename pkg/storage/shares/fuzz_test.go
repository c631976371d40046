package shares

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzShareContainer feeds arbitrary bytes to the container readers as a
// share container: they must fail cleanly, never panic or read out of
// bounds.
func FuzzShareContainer(f *testing.F) {
	for _, name := range []string{"chk/s1/5", "sdmf/s1/1", "mdmf/s1/2", "dir/s1/4"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, "files", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(append(bytes.Clone(mutableMagicV2), make([]byte, 500)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		info, err := Inspect(r)
		if err != nil {
			return
		}
		if info.DataLength < 0 || info.DataLength > int64(len(data)) {
			t.Fatalf("%v share claims %d data bytes in a %d-byte container", info.Kind, info.DataLength, len(data))
		}
		if info.Kind == KindMutable {
			if c, err := parseMutable(r); err == nil {
				c.ReadData(0, info.DataLength)
			}
		}
	})
}
