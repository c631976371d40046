package mutable

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// readShare returns share n of the vector's file as Tahoe wrote it.
func readShare(t *testing.T, v vectorFile, srv []storage.Server, n int) []byte {
	var si storage.StorageIndex
	b, _ := caps.Base32Decode(v.StorageIndex)
	copy(si[:], b)
	for _, s := range srv {
		nums, _ := s.ListMutableShares(context.Background(), si)
		for _, m := range nums {
			if m == n {
				data, err := s.ReadMutableShareChunk(context.Background(), si, n, 0, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
		}
	}
	t.Fatalf("share %d not found", n)
	return nil
}

// TestBuildReproducesTahoesShares rebuilds Tahoe's SDMF and MDMF shares
// from the same key (decrypted from the share with the writecap), salt and
// data: every byte matches except the randomized RSA-PSS signature.
func TestBuildReproducesTahoesShares(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			c, _ := caps.Parse(v.Cap)
			srv := servers(t, v, nil)
			tahoe0 := readShare(t, v, srv, 0)
			s0, err := ParseShare(0, tahoe0)
			if err != nil {
				t.Fatal(err)
			}
			priv := make([]byte, len(s0.EncPrivKey))
			blk, _ := aes.NewCipher(c.WriteKey)
			cipher.NewCTR(blk, make([]byte, aes.BlockSize)).XORKeyStream(priv, s0.EncPrivKey)
			k, err := x509.ParsePKCS8PrivateKey(priv)
			if err != nil {
				t.Fatalf("decrypting the private key with the writekey: %v", err)
			}
			salt, _, err := s0.block(0)
			if err != nil {
				t.Fatal(err)
			}
			p := Params{Needed: s0.Needed, Total: s0.Total, Seqnum: s0.Seqnum, Format: s0.Version,
				Salt: func(int) []byte { return salt }}
			built, err := Build(k.(*rsa.PrivateKey), sha256ctr(v.Data.Seed, v.Data.Length), p)
			if err != nil {
				t.Fatal(err)
			}
			if built.Cap.String() != v.Cap {
				t.Fatalf("cap %s, want %s", built.Cap, v.Cap)
			}
			for n := 0; n < s0.Total; n++ {
				tahoe := readShare(t, v, srv, n)
				ts, _ := ParseShare(n, tahoe)
				ours := built.Shares[n]
				os, err := ParseShare(n, ours)
				if err != nil {
					t.Fatal(err)
				}
				if len(ours) != len(tahoe) {
					t.Fatalf("share %d: %d bytes, Tahoe's %d", n, len(ours), len(tahoe))
				}
				// Blank the signatures, then compare every byte.
				a, b := bytes.Clone(ours), bytes.Clone(tahoe)
				sigAt := bytes.Index(a, os.Signature)
				clear(a[sigAt : sigAt+len(os.Signature)])
				clear(b[sigAt : sigAt+len(ts.Signature)])
				if !bytes.Equal(a, b) {
					for i := range a {
						if a[i] != b[i] {
							t.Fatalf("share %d differs from Tahoe's at byte %d", n, i)
						}
					}
				}
				if err := os.Verify(c); err != nil {
					t.Fatalf("our share %d does not verify: %v", n, err)
				}
			}
		})
	}
}

func TestCreateAndRetrieve(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var targets []Target
	var plain []storage.Server
	for i := 0; i < 4; i++ {
		l, err := shares.OpenDisk(t.TempDir(), shares.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		seed := bytes.Repeat([]byte{byte(i + 1)}, 20)
		targets = append(targets, Target{Storage: l, LeaseSeed: seed})
		plain = append(plain, l)
	}
	for _, tc := range []struct {
		name   string
		format int
		size   int
		seg    uint64
	}{{"sdmf-empty", VersionSDMF, 0, 0}, {"sdmf-1", VersionSDMF, 1, 0}, {"sdmf-5000", VersionSDMF, 5000, 0},
		{"mdmf-1", VersionMDMF, 1, 0}, {"mdmf-3-segments", VersionMDMF, 10000, 4096}, {"mdmf-exact", VersionMDMF, 8190, 4095}} {
		t.Run(tc.name, func(t *testing.T) {
			data := sha256ctr(tc.name, tc.size)
			b, err := Build(key, data, Params{Needed: 3, Total: 5, Format: tc.format, MaxSegmentSize: tc.seg, Seqnum: 1})
			if err != nil {
				t.Fatal(err)
			}
			// Each case needs its own key's storage index: derive a fresh one.
			if err := Create(context.Background(), b, targets, Options{}); err != nil {
				if errors.Is(err, ErrExists) {
					t.Skip("same key as an earlier case")
				}
				t.Fatal(err)
			}
			for _, cp := range []*caps.Cap{b.Cap, b.Cap.ReadOnly()} {
				var out bytes.Buffer
				if err := Retrieve(context.Background(), cp, plain, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
					t.Fatalf("%s: %v (%d bytes back)", cp.Kind, err, out.Len())
				}
			}
			// Creating it again is refused: the shares exist.
			if err := Create(context.Background(), b, targets, Options{}); !errors.Is(err, ErrExists) {
				t.Fatalf("second create: %v", err)
			}
			// A read cap cannot create or change anything: it has no writekey.
			if b.Cap.ReadOnly().WriteKey != nil {
				t.Fatal("read cap carries a writekey")
			}
		})
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
}
