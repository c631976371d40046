package tahoecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/storage/shares"
)

// FuzzMutableShare: the mutable share reader behind dump-share,
// catalog-shares and corrupt-share takes any bytes as share data without
// panicking, and every region it reports lies inside the data.
func FuzzMutableShare(f *testing.F) {
	for _, rel := range []string{"4b/4b2wcstn2iz4jnqcc4va75wnfm/1", "uv/uv6pntg25dgoar53ibrivdh4xy/2", "4d/4drya2rjsgyeaxu55qg3arjsmq/4"} {
		b, err := os.ReadFile(filepath.Join("testdata", "shares", rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[shares.MutableDataOffset:])
	}
	f.Add([]byte{1})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		c, err := readMutableContents(r, int64(len(data)))
		if err != nil {
			return
		}
		if uint64(len(c.PubKey)) > uint64(len(data)) || c.EncPrivKeyLen > uint64(len(data)) || c.BlockHashNodes*32 > uint64(len(data)) {
			t.Fatalf("regions larger than the data: %+v", c)
		}
		_ = c.shareHashList()
		to := "enc_privkey"
		if c.Version == 1 {
			to = "block_hash_tree"
		}
		if _, err := c.span("share data", "share_data", to, int64(len(data))); err == nil {
			if a, b := c.region("share_data", to); a > b || b > uint64(len(data)) {
				t.Fatalf("share data [%d, %d) outside %d bytes", a, b, len(data))
			}
		}
	})
}
