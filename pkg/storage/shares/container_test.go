package shares

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
)

type vectorShare struct {
	Node   string `json:"node"`
	Shnum  int    `json:"shnum"`
	Path   string `json:"path"`
	Length int    `json:"length"`
	SHA256 string `json:"sha256"`
	OnDisk string `json:"on_disk"`
}

type vectorEntry struct {
	Cap          string        `json:"cap"`
	StorageIndex string        `json:"storage_index"`
	Shares       []vectorShare `json:"shares"`
	Dump         string        `json:"tahoe_debug_dump_share_of_first"`
}

const vectorDir = "testdata/tahoe-share-files"

func loadVectors(t testing.TB) map[string]vectorEntry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(vectorDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]vectorEntry{}
	for k, v := range m {
		if k == "read_this_first" {
			continue
		}
		var e vectorEntry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = e
	}
	if len(out) != 5 {
		t.Fatalf("want 5 vector entries, got %d", len(out))
	}
	return out
}

func readVectorFile(t testing.TB, s vectorShare) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, s.Path))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != s.SHA256 || len(b) != s.Length {
		t.Fatalf("%s: vector file does not match manifest", s.Path)
	}
	return b
}

// parsedShare is what a container holds, read with this package's code.
type parsedShare struct {
	kind   ContainerKind
	data   []byte
	leases []Lease
	nodeID [20]byte
	we     [32]byte
}

func parseShareFile(t testing.TB, path string) parsedShare {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseShareBytes(t, b)
}

func parseShareBytes(t testing.TB, b []byte) parsedShare {
	t.Helper()
	f := bytes.NewReader(b)
	info, err := Inspect(f)
	if err != nil {
		t.Fatal(err)
	}
	kind, size := info.Kind, info.DataLength
	p := parsedShare{kind: kind, leases: info.Leases, data: make([]byte, size)}
	switch kind {
	case KindImmutable:
		c, err := parseImmutable(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadData(p.data, 0); err != nil {
			t.Fatal(err)
		}
	case KindMutable:
		c, err := parseMutable(f)
		if err != nil {
			t.Fatal(err)
		}
		if p.data, err = c.ReadData(0, size); err != nil {
			t.Fatal(err)
		}
		if p.we, p.nodeID, err = c.WriteEnabler(); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func dumpField(dump, name string) string {
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `:?\s*(.*)$`).FindStringSubmatch(dump)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestVectorContainersRead reads every container file Tahoe wrote and checks
// what we read against Tahoe's own dump-share.
func TestVectorContainersRead(t *testing.T) {
	for name, e := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			for i, s := range e.Shares {
				readVectorFile(t, s)
				p := parseShareFile(t, filepath.Join(vectorDir, s.Path))
				wantKind := KindMutable
				if name == "chk" || name == "chk_multiseg" {
					wantKind = KindImmutable
				}
				if p.kind != wantKind {
					t.Fatalf("%s: kind %v, want %v", s.Path, p.kind, wantKind)
				}
				if len(p.leases) != 1 {
					t.Fatalf("%s: %d leases, want 1", s.Path, len(p.leases))
				}
				if i != 0 {
					continue
				}
				d := e.Dump
				switch p.kind {
				case KindImmutable:
					if !regexp.MustCompile(`Lease #0: owner=` + strconv.Itoa(int(p.leases[0].Owner))).MatchString(d) {
						t.Errorf("lease owner %d not in dump", p.leases[0].Owner)
					}
					// Share data begins with the share's own version and block size.
					if got := dumpField(d, "data"); got == "" {
						t.Errorf("dump lacks data size")
					}
				case KindMutable:
					if got, want := strconv.Itoa(len(p.data)), dumpField(d, "data_length"); got != want {
						t.Errorf("data_length %s, dump says %s", got, want)
					}
					if got, want := caps.Base32Encode(p.we[:]), dumpField(d, "write_enabler"); got != want {
						t.Errorf("write enabler %s, dump says %s", got, want)
					}
					if got, want := caps.Base32Encode(p.nodeID[:]), dumpField(d, "WE for nodeid"); got != want {
						t.Errorf("nodeid %s, dump says %s", got, want)
					}
					if got, want := "hash:"+caps.Base32Encode(p.leases[0].RenewSecret[:]), dumpField(d, "renew_secret"); got != want {
						t.Errorf("renew secret %s, dump says %s", got, want)
					}
					if got, want := "hash:"+caps.Base32Encode(p.leases[0].CancelSecret[:]), dumpField(d, "cancel_secret"); got != want {
						t.Errorf("cancel secret %s, dump says %s", got, want)
					}
					if got, want := strconv.Itoa(int(p.leases[0].Owner)), dumpField(d, "ownerid"); got != want {
						t.Errorf("owner %s, dump says %s", got, want)
					}
				}
			}
		})
	}
}

// TestVectorContainersRebuild writes each container again from the data and
// leases read out of it and requires byte-identical files.
func TestVectorContainersRebuild(t *testing.T) {
	ctx := context.Background()
	for name, e := range loadVectors(t) {
		for _, s := range e.Shares {
			t.Run(name+"/"+s.Node, func(t *testing.T) {
				orig := readVectorFile(t, s)
				p := parseShareFile(t, filepath.Join(vectorDir, s.Path))
				mb := mem.New(mem.Options{})
				out, err := mb.Create(ctx, storage.StorageIndex{}, 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				defer out.Close()
				switch p.kind {
				case KindImmutable:
					c, err := newImmutable(out, int64(len(p.data)))
					if err != nil {
						t.Fatal(err)
					}
					for _, l := range p.leases {
						if err := c.AddLease(l); err != nil {
							t.Fatal(err)
						}
					}
					if err := c.WriteData(p.data, 0); err != nil {
						t.Fatal(err)
					}
				case KindMutable:
					c, err := newMutable(out, p.nodeID, p.we)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.WriteData(p.data, 0); err != nil {
						t.Fatal(err)
					}
					for _, l := range p.leases {
						if err := c.AddLease(l); err != nil {
							t.Fatal(err)
						}
					}
				}
				got := make([]byte, out.Size())
				if _, err := out.ReadAt(got, 0); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, orig) {
					t.Fatalf("rebuilt container differs from Tahoe's (%d vs %d bytes)", len(got), len(orig))
				}
			})
		}
	}
}

// installVectors puts the vector share files of one node into a backend,
// under the storage index and share number Tahoe's storage server used
// (on disk: at the very path, see TestVectorDiskLayout).
func installVectors(t testing.TB, b backend.Backend, e vectorEntry, node string) {
	t.Helper()
	si, err := storage.ParseStorageIndex(e.StorageIndex)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range e.Shares {
		if s.Node != node {
			continue
		}
		if want := "storage/shares/" + e.StorageIndex[:2] + "/" + e.StorageIndex + "/" + strconv.Itoa(s.Shnum); s.OnDisk != want {
			t.Fatalf("vector on_disk %q, want %q", s.OnDisk, want)
		}
		backendtest.Put(t, b, si, s.Shnum, readVectorFile(t, s))
	}
}

// TestVectorServeAndWrite puts Tahoe's share files in a store, serves their
// data through the Store, and uploads the same data again through the Store with the
// same clock, expecting the same container bytes (lease secrets aside, which
// Tahoe stored only hashed).
func TestVectorServeAndWrite(t *testing.T) {
	forEachBackend(t, testVectorServeAndWrite)
}

func testVectorServeAndWrite(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	for name, e := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			s := e.Shares[0]
			orig := readVectorFile(t, s)
			p := parseShareFile(t, filepath.Join(vectorDir, s.Path))
			si, err := storage.ParseStorageIndex(e.StorageIndex)
			if err != nil {
				t.Fatal(err)
			}
			// Serve Tahoe's file.
			src := open(t)
			installVectors(t, src, e, s.Node)
			l := New(src, Options{})
			defer l.Close()
			list, other := l.ListShares, l.ListMutableShares
			if p.kind == KindMutable {
				list, other = other, list
			}
			got, err := list(ctx, si)
			if err != nil || len(got) != 1 || got[0] != s.Shnum {
				t.Fatalf("list = %v, %v; want [%d]", got, err, s.Shnum)
			}
			if got, err := other(ctx, si); err != nil || len(got) != 0 {
				t.Fatalf("the other kind's list = %v, %v; want none", got, err)
			}
			read := l.ReadShareChunk
			if p.kind == KindMutable {
				read = l.ReadMutableShareChunk
			}
			data, err := read(ctx, si, s.Shnum, 0, uint64(len(p.data))+100)
			if err != nil || !bytes.Equal(data, p.data) {
				t.Fatalf("served data differs (err %v)", err)
			}
			tail, err := read(ctx, si, s.Shnum, uint64(len(p.data))-7, 100)
			if err != nil || !bytes.Equal(tail, p.data[len(p.data)-7:]) {
				t.Fatalf("read past the end: %d bytes, %v", len(tail), err)
			}

			// Write the same share through the Store with Tahoe's clock.
			lease := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
			now := time.Unix(int64(p.leases[0].Expiration)-leaseRenewalSeconds, 0)
			dst := open(t)
			w := New(dst, Options{NodeID: p.nodeID, Now: func() time.Time { return now }})
			defer w.Close()
			if p.kind == KindImmutable {
				res, err := w.AllocateBuckets(ctx, si, lease, []byte("upload"), []int{s.Shnum}, uint64(len(p.data)))
				if err != nil || len(res.Allocated) != 1 {
					t.Fatalf("allocate: %+v %v", res, err)
				}
				if _, err := w.WriteShareChunk(ctx, si, s.Shnum, []byte("upload"), 0, p.data); err != nil {
					t.Fatal(err)
				}
			} else {
				nl := uint64(len(p.data))
				_, err := w.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: p.we, Lease: lease}, storage.ReadTestWriteRequest{
					TestWriteVectors: map[uint64]storage.TestWriteVectors{uint64(s.Shnum): {Write: []storage.WriteVector{{Offset: 0, Data: p.data}}, NewLength: &nl}},
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			written := backendtest.Get(t, dst, si, s.Shnum)
			// Put Tahoe's hashed secrets into ours and compare every byte.
			want := bytes.Clone(orig)
			rh, ch := blake2b.Sum256(lease.Renew[:]), blake2b.Sum256(lease.Cancel[:])
			want = bytes.Replace(want, p.leases[0].RenewSecret[:], rh[:], 1)
			want = bytes.Replace(want, p.leases[0].CancelSecret[:], ch[:], 1)
			if !bytes.Equal(written, want) {
				t.Fatalf("container written through the Store differs from Tahoe's")
			}
		})
	}
}

// counting is bytes 0, 1, ... 250, 0, 1, ... of length n.
func counting(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return string(b)
}

// TestBlake2b256 checks the lease-secret hash (x/crypto's BLAKE2b-256)
// against Python's hashlib.blake2b(digest_size=32), as Tahoe computes it.
func TestBlake2b256(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
		{"abc", "abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"},
		{"two blocks", string(bytes.Repeat([]byte("x"), 200)), "7eb9c902d76f4876a0494066a9773bd4f8c0caf612f4683e352af66bc12af33e"},
		{"one full block", counting(128), "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb2488c1d1"},
		{"one block and a byte", counting(129), "f7f3c46ba2564ff4c4c162da1f5b605f9f1c4aa6a20652a9f9a337c1a2f5b9c9"},
		{"two full blocks", counting(256), "582f782226018ec33076bd8d1c42413530ac7e1126260ffc0f306ba3befc3f24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := blake2b.Sum256([]byte(tc.in))
			if hex.EncodeToString(got[:]) != tc.want {
				t.Fatalf("got %x", got)
			}
		})
	}
}

// TestV1Containers: containers of schema version 1 (lease secrets in clear,
// written by Tahoe before 1.17) are read, renewed and extended in their own
// schema.
func TestV1Containers(t *testing.T) { forEachBackend(t, testV1Containers) }

func testV1Containers(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	vs := loadVectors(t)
	now := time.Unix(1_900_000_000, 0)
	old := storage.LeaseSecrets{Renew: [32]byte{0xaa}, Cancel: [32]byte{0xbb}}
	other := storage.LeaseSecrets{Renew: [32]byte{0xcc}, Cancel: [32]byte{0xdd}}
	for _, name := range []string{"chk", "sdmf"} {
		t.Run(name, func(t *testing.T) {
			e := vs[name]
			s := e.Shares[0]
			p := parseShareFile(t, filepath.Join(vectorDir, s.Path))
			b := readVectorFile(t, s)
			// Downgrade the container to schema 1 with cleartext secrets.
			b = bytes.Replace(b, p.leases[0].RenewSecret[:], old.Renew[:], 1)
			b = bytes.Replace(b, p.leases[0].CancelSecret[:], old.Cancel[:], 1)
			if p.kind == KindImmutable {
				b[3] = 1
			} else {
				copy(b, mutableMagicV1)
			}
			store := open(t)
			si, _ := storage.ParseStorageIndex(e.StorageIndex)
			backendtest.Put(t, store, si, s.Shnum, b)
			l := New(store, Options{Now: func() time.Time { return now }})
			defer l.Close()
			for _, sec := range []storage.LeaseSecrets{old, other} {
				if err := l.AddOrRenewLease(ctx, si, sec); err != nil {
					t.Fatal(err)
				}
			}
			q := parseShareBytes(t, backendtest.Get(t, store, si, s.Shnum))
			if !bytes.Equal(q.data, p.data) {
				t.Fatal("share data changed")
			}
			if len(q.leases) != 2 || !q.leases[0].Cleartext || !q.leases[1].Cleartext {
				t.Fatalf("leases %+v", q.leases)
			}
			want := uint32(now.Unix() + leaseRenewalSeconds)
			if q.leases[0].RenewSecret != old.Renew || q.leases[0].Expiration != want {
				t.Errorf("old lease not renewed in clear: %+v", q.leases[0])
			}
			if q.leases[1].RenewSecret != other.Renew || q.leases[1].CancelSecret != other.Cancel || q.leases[1].Expiration != want {
				t.Errorf("new lease not stored in clear: %+v", q.leases[1])
			}
		})
	}
}
