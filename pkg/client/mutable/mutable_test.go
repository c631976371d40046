package mutable

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/shares"
)

type vectorFile struct {
	Cap          string `json:"cap"`
	StorageIndex string `json:"storage_index"`
	Data         struct {
		Seed   string `json:"seed"`
		Length int    `json:"length"`
	} `json:"data"`
	Shares []struct {
		Node  string `json:"node"`
		Shnum int    `json:"shnum"`
		Path  string `json:"path"`
	} `json:"shares"`
}

func sha256ctr(seed string, length int) []byte {
	var out []byte
	var ctr [8]byte
	for i := uint64(0); len(out) < length; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		h := sha256.Sum256(append([]byte(seed), ctr[:]...))
		out = append(out, h[:]...)
	}
	return out[:length]
}

func loadVector(t testing.TB, name string) vectorFile {
	b, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(m[name], &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// servers lays the vector's share files out as one Tahoe storage directory
// per node and opens each as an in-process storage server.
func servers(t *testing.T, v vectorFile, mutate func(node string, shnum int, b []byte)) []storage.Server {
	root := t.TempDir()
	byNode := map[string]string{}
	for _, sh := range v.Shares {
		dir, ok := byNode[sh.Node]
		if !ok {
			dir = filepath.Join(root, sh.Node)
			byNode[sh.Node] = dir
		}
		b, err := os.ReadFile(filepath.Join("testdata", sh.Path))
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(sh.Node, sh.Shnum, b)
		}
		dst := filepath.Join(dir, "shares", v.StorageIndex[:2], v.StorageIndex, filepath.Base(sh.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out []storage.Server
	for _, dir := range byNode {
		l, err := shares.OpenDisk(dir, shares.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		out = append(out, l)
	}
	return out
}

func TestRetrieveTahoeShares(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			c, err := caps.Parse(v.Cap)
			if err != nil {
				t.Fatal(err)
			}
			want := sha256ctr(v.Data.Seed, v.Data.Length)
			for _, cp := range []*caps.Cap{c, c.ReadOnly()} {
				var out bytes.Buffer
				if err := Retrieve(context.Background(), cp, servers(t, v, nil), &out, nil); err != nil {
					t.Fatalf("%s: %v", cp.Kind, err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Fatalf("%s: plaintext differs (%d bytes)", cp.Kind, out.Len())
				}
			}
		})
	}
}

func TestCorruptSharesAreSkipped(t *testing.T) {
	for _, name := range []string{"sdmf", "mdmf"} {
		v := loadVector(t, name)
		c, _ := caps.Parse(v.Cap)
		want := sha256ctr(v.Data.Seed, v.Data.Length)
		// Flip a byte at many offsets of the share data in two shares: the
		// other four (k = 3) still recover the file; the two are reported.
		const containerHeader = 468 // Tahoe's mutable container before the share data
		for off := containerHeader; off < containerHeader+2600; off += 97 {
			srv := servers(t, v, func(node string, shnum int, b []byte) {
				if (shnum == 0 || shnum == 1) && off < len(b) {
					b[off] ^= 0x20
				}
			})
			var out bytes.Buffer
			err := Retrieve(context.Background(), c, srv, &out, func(n int, _ error) {
				if n != 0 && n != 1 {
					t.Errorf("%s: flip at %d: good share %d rejected", name, off, n)
				}
			})
			if err != nil || !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("%s: flip at %d: %v", name, off, err)
			}
		}
		// Only two good shares: a clear error.
		srv := servers(t, v, func(node string, shnum int, b []byte) {
			if shnum > 1 {
				b[containerHeader+14] ^= 1 // the signed root hash
			}
		})
		err := Retrieve(context.Background(), c, srv, &bytes.Buffer{}, nil)
		var ne *NotEnoughSharesError
		if !errors.As(err, &ne) || ne.Needed != 3 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestRetrieveDirectory reads the SDMF file under a Tahoe directory cap:
// the directory's serialized entries (parsing them is the directory
// work still to come).
func TestRetrieveDirectory(t *testing.T) {
	v := loadVector(t, "dir")
	c, err := caps.Parse(v.Cap)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Retrieve(context.Background(), c, servers(t, v, nil), &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.Len() == 0 {
		t.Fatal("empty directory contents")
	}
	// Every dirnode entry is a netstring; the first starts with digits.
	if b := out.Bytes()[0]; b < '0' || b > '9' {
		t.Fatalf("directory contents start with %q, not a netstring", b)
	}
}

// FuzzParseHeaders feeds arbitrary bytes through the headers-only parse a
// check's ReadHeaders makes (the front of a share, and for MDMF a block
// hash tree read apart): none may panic, every error is marked corrupt.
func FuzzParseHeaders(f *testing.F) {
	b, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		f.Fatal(err)
	}
	var m map[string]vectorFile
	_ = json.Unmarshal(b, &m)
	for _, name := range []string{"sdmf", "mdmf"} {
		for _, sh := range m[name].Shares {
			if b, err := os.ReadFile(filepath.Join("testdata", sh.Path)); err == nil && len(b) > containerDataOff {
				d := b[containerDataOff:]
				f.Add(sh.Shnum, d, d[len(d)-64:])
			}
		}
	}
	f.Fuzz(func(t *testing.T, num int, front, bht []byte) {
		if len(front) == 0 {
			return
		}
		s := &Share{Num: num, Version: int(front[0])}
		var err error
		switch s.Version {
		case VersionSDMF:
			err = s.parseSDMFFrom(front, true)
		case VersionMDMF:
			err = s.parseMDMFFrom(front, bht)
		default:
			return
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not marked corrupt: %v", err)
			}
			return
		}
		if !s.HeadersOnly || s.VerifyBlocks() == nil {
			t.Fatalf("a headers-only share has blocks")
		}
	})
}

// FuzzParseShare feeds arbitrary share data through parsing and every
// check a reader makes: none may panic, and a share that passes them all
// must have blocks of the size its header implies.
func FuzzParseShare(f *testing.F) {
	var c *caps.Cap
	for _, name := range []string{"sdmf", "mdmf"} {
		b, err := os.ReadFile("testdata/manifest.json")
		if err != nil {
			f.Fatal(err)
		}
		var m map[string]vectorFile
		_ = json.Unmarshal(b, &m) // entries without our fields decode to zero values
		v := m[name]
		if name == "sdmf" {
			if c, err = caps.Parse(v.Cap); err != nil {
				f.Fatal(err)
			}
		}
		for _, sh := range v.Shares {
			if b, err := os.ReadFile(filepath.Join("testdata", sh.Path)); err == nil && len(b) > containerDataOff {
				f.Add(sh.Shnum, b[containerDataOff:])
			}
		}
	}
	f.Fuzz(func(t *testing.T, num int, b []byte) {
		s, err := ParseShare(num, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not marked corrupt: %v", err)
			}
			return
		}
		for i := 0; i < s.NumSegments() && i < 4; i++ {
			_, _, _ = s.block(i)
		}
		if s.Verify(c) != nil {
			return
		}
		for i := 0; i < s.NumSegments(); i++ {
			_, blk, err := s.checkBlock(i)
			if err != nil {
				return
			}
			if _, _, bl := s.segment(i); uint64(len(blk)) != bl {
				t.Fatalf("segment %d: block of %d bytes, want %d", i, len(blk), bl)
			}
		}
	})
}
