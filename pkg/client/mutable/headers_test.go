package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/lafs/lafs/pkg/storage"
)

// TestReadHeaders: a check's read of a share takes what Verify needs and
// not the blocks; Verify passes on it, and fails when the signed parts are
// corrupt. Corrupt share data is not seen (that is verify's job).
func TestReadHeaders(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, format := range []int{VersionSDMF, VersionMDMF} {
		for _, tc := range []struct {
			name      string
			size      int
			corruptAt uint64 // 0: none
			wantErr   bool
			maxRead   int64 // bytes read at most (0: the whole share)
		}{
			{"large", 600_000, 0, false, 8 << 10},
			{"large, data corrupt", 600_000, 100_000, false, 8 << 10},
			{"large, signature corrupt", 600_000, 1, true, 8 << 10},
			{"small: one read, whole", 2000, 0, false, 0},
		} {
			targets, _, ws := watchedTargets(t, 3)
			b, err := Build(key, sha256ctr("headers", tc.size), Params{Needed: 2, Total: 3, Format: format, Seqnum: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := Create(context.Background(), b, targets, Options{}); err != nil {
				t.Fatal(err)
			}
			at := tc.corruptAt
			if at == 1 { // the signature's first byte
				whole, err := ParseShare(0, b.Shares[0])
				if err != nil {
					t.Fatal(err)
				}
				at = uint64(bytes.Index(b.Shares[0], whole.Signature))
			}
			if at > 0 {
				ws[0].corrupt, ws[0].corruptAt = func(int) bool { return true }, at
			}
			var si storage.StorageIndex
			copy(si[:], b.Cap.StorageIndex)
			s, err := ReadHeaders(context.Background(), ws[0], si, 0)
			if err == nil {
				err = s.Verify(b.Cap)
			}
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrCorrupt)) {
				t.Errorf("format %d, %s: %v", format, tc.name, err)
			}
			whole := int64(len(b.Shares[0]))
			got := ws[0].bytesRead.Load()
			if tc.maxRead == 0 && got != whole || tc.maxRead > 0 && got > tc.maxRead {
				t.Errorf("format %d, %s: read %d bytes of a %d-byte share", format, tc.name, got, whole)
			}
			if err == nil && s.HeadersOnly != (tc.maxRead > 0) {
				t.Errorf("format %d, %s: HeadersOnly %v", format, tc.name, s.HeadersOnly)
			}
			if err == nil && s.HeadersOnly && s.VerifyBlocks() == nil {
				t.Errorf("format %d, %s: VerifyBlocks passed on a share without blocks", format, tc.name)
			}
		}
	}
}
