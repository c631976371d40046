package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

// Tahoe's mutable container: a 100-byte header (magic, write enabler
// nodeid and secret, data length, extra-lease offset) and four 92-byte
// lease slots before the share data.
const (
	containerDataLengthOff = 32 + 20 + 32
	containerDataOff       = 100 + 4*92
)

// rawShares returns the share data inside each of the vector's container
// files, by share number.
func rawShares(t testing.TB, v vectorFile) map[int][]byte {
	t.Helper()
	out := map[int][]byte{}
	for _, sh := range v.Shares {
		b, err := os.ReadFile(filepath.Join("testdata", sh.Path))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < containerDataOff {
			t.Fatalf("%s: %d bytes, shorter than the container header", sh.Path, len(b))
		}
		n := binary.BigEndian.Uint64(b[containerDataLengthOff:])
		if uint64(len(b)-containerDataOff) < n {
			t.Fatalf("%s: data length %d past the end", sh.Path, n)
		}
		out[sh.Shnum] = b[containerDataOff : containerDataOff+int(n)]
	}
	return out
}

func copyShares(m map[int][]byte) map[int][]byte {
	out := map[int][]byte{}
	for n, b := range m {
		out[n] = bytes.Clone(b)
	}
	return out
}

func TestDecodeSharesTahoeVectors(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf", "dir"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			c, err := caps.Parse(v.Cap)
			if err != nil {
				t.Fatal(err)
			}
			raw := rawShares(t, v)
			if len(raw) != 6 {
				t.Fatalf("%d shares", len(raw))
			}
			var want []byte
			if name != "dir" {
				want = sha256ctr(v.Data.Seed, v.Data.Length)
			}
			for _, cp := range []*caps.Cap{c, c.ReadOnly()} {
				// Every 3-of-6 subset recovers the file.
				for a := 0; a < 6; a++ {
					for b := a + 1; b < 6; b++ {
						for d := b + 1; d < 6; d++ {
							sub := map[int][]byte{a: raw[a], b: raw[b], d: raw[d]}
							var out bytes.Buffer
							if err := DecodeShares(cp, sub, &out, func(n int, err error) { t.Errorf("share %d rejected: %v", n, err) }); err != nil {
								t.Fatalf("%s shares %d,%d,%d: %v", cp.Kind, a, b, d, err)
							}
							if want == nil {
								want = bytes.Clone(out.Bytes())
							}
							if !bytes.Equal(out.Bytes(), want) {
								t.Fatalf("%s shares %d,%d,%d: plaintext differs", cp.Kind, a, b, d)
							}
						}
					}
				}
			}
			// Two shares are not enough: a clear error, nothing written.
			var out bytes.Buffer
			err = DecodeShares(c, map[int][]byte{0: raw[0], 5: raw[5]}, &out, nil)
			var ne *NotEnoughSharesError
			if !errors.As(err, &ne) || ne.Needed != 3 || ne.Found != 2 || out.Len() != 0 {
				t.Fatalf("two shares: %v (%d bytes written)", err, out.Len())
			}
			if !strings.Contains(err.Error(), "found 2, need 3") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}

// offsetIn returns where sub, a subslice of b, starts in b.
func offsetIn(b, sub []byte) int { return cap(b) - cap(sub) }

// TestEveryByteFlipDetected flips each byte of a Tahoe share, two ways,
// and checks the share is rejected — unless the byte only concerns the
// encrypted private key, which reading never uses: then the share must
// still decode to the right plaintext — or lies in the slack MDMF leaves
// between the verification key and the share data, which no offset covers.
func TestEveryByteFlipDetected(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			c, _ := caps.Parse(v.Cap)
			want := sha256ctr(v.Data.Seed, v.Data.Length)
			raw := rawShares(t, v)
			orig, err := ParseShare(0, raw[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := orig.Verify(c); err != nil {
				t.Fatal(err)
			}
			privFrom := offsetIn(raw[0], orig.EncPrivKey)
			privTo := privFrom + len(orig.EncPrivKey)
			slackFrom := offsetIn(raw[0], orig.VerificationKey) + len(orig.VerificationKey)
			slackTo := offsetIn(raw[0], orig.ShareData)
			if orig.Version == VersionSDMF {
				slackFrom, slackTo = 0, 0
			}
			undetected := 0
			for off := range raw[0] {
				for _, mask := range []byte{0x01, 0x80} {
					b := bytes.Clone(raw[0])
					b[off] ^= mask
					err := checkOne(c, b)
					if err != nil {
						if !errors.Is(err, ErrCorrupt) {
							t.Fatalf("flip %#x at %d: error not marked corrupt: %v", mask, off, err)
						}
						continue
					}
					undetected++
					inPriv := off >= privFrom && off < privTo
					inSlack := off >= slackFrom && off < slackTo
					if !inPriv && !inSlack && !privOffsetField(orig, off) {
						t.Fatalf("flip %#x at %d (outside the private key) went undetected", mask, off)
					}
					// Whatever it changed, the plaintext is still right.
					var out bytes.Buffer
					if err := DecodeShares(c, map[int][]byte{0: b, 1: raw[1], 2: raw[2]}, &out, nil); err != nil || !bytes.Equal(out.Bytes(), want) {
						t.Fatalf("flip %#x at %d: %v", mask, off, err)
					}
				}
			}
			t.Logf("%d of %d flips touched only the private key or unused slack", undetected, 2*len(raw[0]))
		})
	}
}

// privOffsetField reports whether offset off of a share's header holds an
// offset that only bounds the encrypted private key.
func privOffsetField(s *Share, off int) bool {
	if s.Version == VersionSDMF {
		return off >= sdmfHeaderLen-8 && off < sdmfHeaderLen // end-of-file offset
	}
	return off >= mdmfSignedLen && off < mdmfSignedLen+8 // private key offset
}

// checkOne parses, verifies and checks every block of share 0.
func checkOne(c *caps.Cap, b []byte) error {
	s, err := ParseShare(0, b)
	if err != nil {
		return err
	}
	if err := s.Verify(c); err != nil {
		return err
	}
	for i := 0; i < s.NumSegments(); i++ {
		_, blk, err := s.checkBlock(i)
		if err != nil {
			return err
		}
		if _, _, bl := s.segment(i); uint64(len(blk)) != bl {
			return corrupt("block length")
		}
	}
	return nil
}

func TestTruncatedSharesRejected(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		v := loadVector(t, name)
		c, _ := caps.Parse(v.Cap)
		b := rawShares(t, v)[0]
		for n := 0; n < len(b); n++ {
			if err := checkOne(c, b[:n:n]); err == nil {
				t.Fatalf("%s: share cut to %d of %d bytes accepted", name, n, len(b))
			}
		}
		// Trailing bytes past the end offset are not part of the share.
		if err := checkOne(c, append(bytes.Clone(b), 0, 0, 0)); err != nil {
			t.Fatalf("%s: trailing bytes: %v", name, err)
		}
	}
}

// TestCorruptRegions corrupts one region in each of several shares and
// decodes from all six: the damaged shares (the lowest numbers, which the
// decoder tries first) are reported and skipped while at least k good ones
// remain; with four damaged, decoding fails clearly.
func TestCorruptRegions(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			c, _ := caps.Parse(v.Cap)
			want := sha256ctr(v.Data.Seed, v.Data.Length)
			raw := rawShares(t, v)
			regions := func(b []byte) map[string]int {
				s, err := ParseShare(0, b)
				if err != nil {
					t.Fatal(err)
				}
				mid := func(x []byte) int { return offsetIn(b, x) + len(x)/2 }
				r := map[string]int{
					"version": 0, "seqnum": 8, "root hash": 20, "k": offsetIn(b, s.Signed) + len(s.Signed) - 18,
					"datalen": len(s.Signed) - 1, "verification key": mid(s.VerificationKey),
					"signature": mid(s.Signature), "share data": mid(s.ShareData),
					"block hash tree": len(b) - 1, "offsets": len(s.Signed) + 2,
				}
				if s.Version == VersionSDMF {
					r["IV"] = 45
					r["block hash tree"] = offsetIn(b, s.ShareData) - 1
				}
				return r
			}
			for region, off := range regions(raw[0]) {
				m := copyShares(raw)
				damaged := []int{0, 1, 2}
				for _, n := range damaged {
					m[n][off] ^= 0x04
				}
				got := map[int]bool{}
				var out bytes.Buffer
				if err := DecodeShares(c, m, &out, func(n int, _ error) { got[n] = true }); err != nil || !bytes.Equal(out.Bytes(), want) {
					t.Fatalf("%s: %v", region, err)
				}
				for _, n := range damaged {
					if !got[n] {
						t.Errorf("%s: damaged share %d not reported", region, n)
					}
				}
				if len(got) != len(damaged) {
					t.Errorf("%s: reported %v", region, got)
				}
				m[3][off] ^= 0x04
				err := DecodeShares(c, m, &out, nil)
				var ne *NotEnoughSharesError
				if !errors.As(err, &ne) || ne.Needed != 3 {
					t.Fatalf("%s with four damaged: %v", region, err)
				}
			}
		})
	}
}

// TestNewestRecoverableVersion mixes shares of two versions of one file:
// the newer wins when it has k good shares, else the older is read.
func TestNewestRecoverableVersion(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []int{VersionSDMF, VersionMDMF} {
		p := Params{Needed: 3, Total: 6, Format: format, MaxSegmentSize: 999, Seqnum: 1}
		old := sha256ctr("old", 3000)
		v1, err := Build(key, old, p)
		if err != nil {
			t.Fatal(err)
		}
		p.Seqnum = 2
		newer := sha256ctr("new", 2500)
		v2, err := Build(key, newer, p)
		if err != nil {
			t.Fatal(err)
		}
		parse := func(n int, b []byte) *Share {
			s, err := ParseShare(n, b)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		var all []*Share
		for n, b := range v1.Shares {
			all = append(all, parse(n, b))
		}
		read := func(ss []*Share) []byte {
			var out bytes.Buffer
			if err := Decode(v1.Cap, ss, &out, nil); err != nil {
				t.Fatalf("format %d: %v", format, err)
			}
			return out.Bytes()
		}
		if !bytes.Equal(read(append(all, parse(0, v2.Shares[0]), parse(4, v2.Shares[4]))), old) {
			t.Fatalf("format %d: two newer shares should leave the old version", format)
		}
		three := append(all, parse(0, v2.Shares[0]), parse(4, v2.Shares[4]), parse(5, v2.Shares[5]))
		if !bytes.Equal(read(three), newer) {
			t.Fatalf("format %d: three newer shares should win", format)
		}
		// A newer share whose block is damaged (signature still good):
		// the newer version falls short and the older one is read.
		bad := bytes.Clone(v2.Shares[5])
		s := parse(5, bad)
		s.ShareData[len(s.ShareData)-1] ^= 1
		if !bytes.Equal(read(append(all, parse(0, v2.Shares[0]), parse(4, v2.Shares[4]), s)), old) {
			t.Fatalf("format %d: damaged newer block should fall back", format)
		}
	}
}

// TestSharesOfAnotherFile gives one file's shares to another file's cap:
// every share fails the fingerprint check and nothing is written.
func TestSharesOfAnotherFile(t *testing.T) {
	other, err := caps.Parse(loadVector(t, "mdmf").Cap)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rejected := 0
	err = DecodeShares(other, rawShares(t, loadVector(t, "sdmf")), &out, func(int, error) { rejected++ })
	var ne *NotEnoughSharesError
	if !errors.As(err, &ne) || ne.Found != 0 || rejected != 6 || out.Len() != 0 {
		t.Fatalf("%v (%d rejected, %d bytes)", err, rejected, out.Len())
	}
	if !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("error does not say why: %v", err)
	}
}

func TestRetrieveFewServersAndCancel(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		v := loadVector(t, name)
		c, _ := caps.Parse(v.Cap)
		want := sha256ctr(v.Data.Seed, v.Data.Length)
		// Any three of the six nodes are enough.
		three := v
		three.Shares = v.Shares[3:]
		var out bytes.Buffer
		if err := Retrieve(context.Background(), c.ReadOnly(), servers(t, three, nil), &out, nil); err != nil || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("%s, three nodes: %v", name, err)
		}
		// Two are not.
		two := v
		two.Shares = v.Shares[:2]
		out.Reset()
		err := Retrieve(context.Background(), c, servers(t, two, nil), &out, nil)
		var ne *NotEnoughSharesError
		if !errors.As(err, &ne) || ne.Found != 2 || ne.Needed != 3 || out.Len() != 0 {
			t.Fatalf("%s, two nodes: %v", name, err)
		}
		// A cancelled context stops the search with the context's error.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Retrieve(ctx, c, servers(t, v, nil), &out, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s, cancelled: %v", name, err)
		}
	}
}
