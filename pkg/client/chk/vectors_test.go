package chk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

// memSink keeps every share in memory.
type memSink struct {
	mu     sync.Mutex
	shares map[int][]byte
}

func newMemSink() *memSink { return &memSink{shares: map[int][]byte{}} }

func (m *memSink) WriteShare(sh int, off uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.shares[sh]
	if need := int(off) + len(data); need > len(b) {
		b = append(b, make([]byte, need-len(b))...)
	}
	copy(b[off:], data)
	m.shares[sh] = b
	return nil
}

// sha256ctr is the debug vectors' plaintext recipe.
func sha256ctr(seed string, length int) []byte {
	out := make([]byte, 0, length+32)
	var ctr [8]byte
	for i := uint64(0); len(out) < length; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		h := sha256.Sum256(append([]byte(seed), ctr[:]...))
		out = append(out, h[:]...)
	}
	return out[:length]
}

// stretch is the public vectors' recipe: the seed repeated, cut to length.
func stretch(seed []byte, length int) []byte {
	out := make([]byte, length)
	for i := range out {
		out[i] = seed[i%len(seed)]
	}
	return out
}

type debugShare struct {
	Shnum          int             `json:"shnum"`
	Length         int             `json:"length"`
	SHA256         string          `json:"sha256"`
	BlockDataSHA   string          `json:"block_data_sha256"`
	BlockHashTree  []string        `json:"block_hash_tree_b32"`
	ShareHashChain [][]interface{} `json:"share_hash_chain"`
	BytesB64       string          `json:"bytes_b64"`
}

type debugCase struct {
	ID   string `json:"id"`
	Data struct {
		Seed   string `json:"seed"`
		Length int    `json:"length"`
	} `json:"data"`
	ConvergenceB64 string `json:"convergence_b64"`
	K              int    `json:"k"`
	N              int    `json:"n"`
	MaxSegmentSize int64  `json:"max_segment_size"`
	DataSHA256     string `json:"data_sha256"`
	Expected       struct {
		Cap                  string            `json:"cap"`
		VerifyCap            *string           `json:"verify_cap"`
		StorageIndex         *string           `json:"storage_index"`
		EffectiveSegmentSize int64             `json:"effective_segment_size"`
		EncryptionKey        string            `json:"encryption_key_b32"`
		NumSegments          int               `json:"num_segments"`
		TailSegmentSize      int64             `json:"tail_segment_size"`
		TailPadded           int64             `json:"tail_segment_padded_size"`
		BlockSize            int64             `json:"block_size"`
		TailBlockSize        int64             `json:"tail_block_size"`
		ShareDataSize        int64             `json:"share_data_size"`
		CiphertextSHA256     string            `json:"ciphertext_sha256"`
		UEBB64               string            `json:"uri_extension_b64"`
		ConvergenceTagB64    string            `json:"convergence_hasher_tag_b64"`
		CrypttextHashTree    []string          `json:"crypttext_hash_tree_b32"`
		ShareBytesIncluded   bool              `json:"share_bytes_included"`
		SharesSHA256         map[string]string `json:"shares_sha256"`
		Shares               []debugShare      `json:"shares"`
		ShareLayout          struct {
			Version       int    `json:"version"`
			HeaderB64     string `json:"header_b64"`
			AllocatedSize uint64 `json:"allocated_size"`
		} `json:"share_layout"`
	} `json:"expected"`
}

func loadDebug(t testing.TB) []debugCase {
	b, err := os.ReadFile("testdata/chk-debug-public.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []debugCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no debug vectors")
	}
	return f.Cases
}

func b64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDebugVectors(t *testing.T) {
	for _, c := range loadDebug(t) {
		t.Run(c.ID, func(t *testing.T) {
			data := sha256ctr(c.Data.Seed, c.Data.Length)
			if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != c.DataSHA256 {
				t.Fatal("plaintext recipe does not reproduce data_sha256")
			}
			p := Params{Needed: c.K, Total: c.N, MaxSegmentSize: c.MaxSegmentSize, Convergence: b64(t, c.ConvergenceB64)}
			src := bytes.NewReader(data)
			if len(data) <= LITMax {
				cp, err := ComputeCap(context.Background(), src, uint64(len(data)), p)
				if err != nil {
					t.Fatal(err)
				}
				if cp.String() != c.Expected.Cap {
					t.Fatalf("cap %s, want %s", cp, c.Expected.Cap)
				}
				return
			}
			sink := newMemSink()
			r, err := Encode(context.Background(), src, uint64(len(data)), p, sink)
			if err != nil {
				t.Fatal(err)
			}
			e := c.Expected
			if r.Cap.String() != e.Cap {
				t.Errorf("cap %s, want %s", r.Cap, e.Cap)
			}
			if got := string(ConvergenceTag(p.Convergence, c.K, c.N, r.Layout.SegmentSize)); got != string(b64(t, e.ConvergenceTagB64)) {
				t.Errorf("convergence tag %q", got)
			}
			if caps.Base32Encode(r.Key) != e.EncryptionKey {
				t.Errorf("key %s, want %s", caps.Base32Encode(r.Key), e.EncryptionKey)
			}
			l := r.Layout
			for name, pair := range map[string][2]int64{
				"segment size": {l.SegmentSize, e.EffectiveSegmentSize}, "segments": {int64(l.NumSegments), int64(e.NumSegments)},
				"tail": {l.TailSize, e.TailSegmentSize}, "tail padded": {l.TailPadded, e.TailPadded},
				"block": {l.BlockSize, e.BlockSize}, "tail block": {l.TailBlockSize, e.TailBlockSize},
				"share data": {l.ShareDataSize, e.ShareDataSize}, "allocated": {int64(r.AllocatedSize), int64(e.ShareLayout.AllocatedSize)},
				"layout version": {int64(r.Header.Version), int64(e.ShareLayout.Version)},
			} {
				if pair[0] != pair[1] {
					t.Errorf("%s = %d, want %d", name, pair[0], pair[1])
				}
			}
			if !bytes.Equal(r.UEB, b64(t, e.UEBB64)) {
				t.Errorf("URI extension block differs:\n got %q\nwant %q", r.UEB, b64(t, e.UEBB64))
			}
			if !bytes.Equal(r.Header.Bytes(), b64(t, e.ShareLayout.HeaderB64)) {
				t.Errorf("header differs")
			}
			if len(sink.shares) != c.N {
				t.Fatalf("%d shares written", len(sink.shares))
			}
			for _, s := range e.Shares {
				got := sink.shares[s.Shnum]
				sum := sha256.Sum256(got)
				if hex.EncodeToString(sum[:]) != s.SHA256 || len(got) != s.Length {
					t.Errorf("share %d: sha256/length differ (len %d want %d)", s.Shnum, len(got), s.Length)
					if s.BytesB64 != "" {
						want := b64(t, s.BytesB64)
						for i := range want {
							if i >= len(got) || got[i] != want[i] {
								t.Errorf("share %d: first difference at byte %d", s.Shnum, i)
								break
							}
						}
					}
				}
				if s.BytesB64 != "" && !bytes.Equal(got, b64(t, s.BytesB64)) {
					t.Errorf("share %d bytes differ", s.Shnum)
				}
				// The chain order is the one Tahoe wrote.
				order := ChainOrder(c.N, s.Shnum)
				if len(order) != len(s.ShareHashChain) {
					t.Fatalf("share %d: chain of %d nodes, want %d", s.Shnum, len(order), len(s.ShareHashChain))
				}
				for i, entry := range s.ShareHashChain {
					if int(entry[0].(float64)) != order[i] {
						t.Errorf("share %d: chain order %v, want %v", s.Shnum, order, s.ShareHashChain)
						break
					}
				}
			}
		})
	}
}

type publicVector struct {
	ConvergenceB64 string `json:"convergence_b64"`
	Expected       string `json:"expected"`
	K              int    `json:"k"`
	N              int    `json:"n"`
	SegmentSize    int64  `json:"segment_size"`
	SeedB64        string `json:"seed_b64"`
	Length         int    `json:"length"`
}

func TestPublicVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/chk-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []publicVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != 120 {
		t.Fatalf("%d vectors, want 120", len(f.Vectors))
	}
	for i, v := range f.Vectors {
		if testing.Short() && v.Length > 1<<20 {
			continue
		}
		t.Run(strconv.Itoa(i)+"_"+strconv.Itoa(v.K)+"of"+strconv.Itoa(v.N)+"_"+strconv.Itoa(v.Length), func(t *testing.T) {
			data := stretch(b64(t, v.SeedB64), v.Length)
			p := Params{Needed: v.K, Total: v.N, MaxSegmentSize: v.SegmentSize, Convergence: b64(t, v.ConvergenceB64)}
			c, err := ComputeCap(context.Background(), bytes.NewReader(data), uint64(len(data)), p)
			if err != nil {
				t.Fatal(err)
			}
			if c.String() != v.Expected {
				t.Fatalf("cap %s\nwant %s", c, v.Expected)
			}
		})
	}
}
