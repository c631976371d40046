package dirnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// tahoeDirContents reads the directory Tahoe wrote (tahoe-share-files/dir)
// through the mutable reader.
func tahoeDirContents(t *testing.T) (*caps.Cap, []byte) {
	b, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var m map[string]struct {
		Cap          string `json:"cap"`
		StorageIndex string `json:"storage_index"`
		Shares       []struct {
			Node, Path string
		} `json:"shares"`
	}
	m = map[string]struct {
		Cap          string `json:"cap"`
		StorageIndex string `json:"storage_index"`
		Shares       []struct {
			Node, Path string
		} `json:"shares"`
	}{}
	v := m["dir"]
	if err := json.Unmarshal(raw["dir"], &v); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var servers []storage.Server
	for _, sh := range v.Shares {
		data, err := os.ReadFile(filepath.Join("testdata", sh.Path))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, sh.Node)
		dst := filepath.Join(dir, "shares", v.StorageIndex[:2], v.StorageIndex, filepath.Base(sh.Path))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := shares.OpenDisk(dir, shares.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		servers = append(servers, l)
	}
	c, err := caps.Parse(v.Cap)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := mutable.Retrieve(context.Background(), c, servers, &out, nil); err != nil {
		t.Fatal(err)
	}
	return c, out.Bytes()
}

func TestTahoeDirectoryRoundTrip(t *testing.T) {
	c, data := tahoeDirContents(t)
	entries, err := Parse(data, c.WriteKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no children")
	}
	for _, e := range entries {
		if e.ROCap == "" || !json.Valid(e.Metadata) {
			t.Fatalf("entry %+v", e)
		}
		if e.RWCap != "" {
			rw, err := caps.Parse(e.RWCap)
			if err != nil || rw.ReadOnly().String() != e.ROCap {
				t.Fatalf("child %q: write cap %q does not attenuate to its read cap %q", e.Name, e.RWCap, e.ROCap)
			}
		}
		if !strings.Contains(string(e.Metadata), "linkcrtime") {
			t.Fatalf("child %q metadata %s", e.Name, e.Metadata)
		}
	}
	// Packing what we parsed gives back Tahoe's bytes exactly.
	again, err := Pack(entries, c.WriteKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("re-packed directory differs from Tahoe's (%d vs %d bytes)", len(again), len(data))
	}
	// Through a read cap the write caps stay hidden.
	ro, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ro {
		if e.RWCap != "" {
			t.Fatal("read cap revealed a write cap")
		}
	}
}

func TestPackRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "a/b", "nul\x00", string([]byte{0xff})} {
		if _, err := Pack([]Entry{{Name: name, ROCap: "URI:LIT:"}}, nil); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := Pack([]Entry{{Name: "a", ROCap: "URI:LIT:"}, {Name: "a", ROCap: "URI:LIT:"}}, nil); err == nil {
		t.Error("duplicate names accepted")
	}
	md := NewMetadata(time.Unix(1700000000, 500000000))
	if !json.Valid(md) || !strings.Contains(string(md), `"linkcrtime": 1700000000.5`) {
		t.Fatalf("metadata %s", md)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("68:1:a,4:URI:,0:,54:{\"tahoe\": {\"linkcrtime\": 1.0, \"linkmotime\": 1.0}},,"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Parse(b, []byte("0123456789abcdef"))
		if err != nil {
			return
		}
		for _, e := range entries {
			_ = e.Cap()
		}
	})
}

func TestNamesAreNFC(t *testing.T) {
	nfd := "cafe\u0301" // e + combining acute
	nfc := "caf\u00e9"
	packed, err := Pack([]Entry{{Name: nfd, ROCap: "URI:LIT:"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	es, err := Parse(packed, nil)
	if err != nil || len(es) != 1 || es[0].Name != nfc {
		t.Fatalf("entries %+v %v", es, err)
	}
	if _, err := Pack([]Entry{{Name: nfd, ROCap: "URI:LIT:"}, {Name: nfc, ROCap: "URI:LIT:"}}, nil); err == nil {
		t.Fatal("NFD and NFC spellings of one name both accepted")
	}
}

func TestTenThousandEntries(t *testing.T) {
	wk := []byte("0123456789abcdef")
	var es []Entry
	for i := 0; i < 10000; i++ {
		es = append(es, Entry{Name: "file-" + strconv.Itoa(i), RWCap: "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", ROCap: "URI:SSK-RO:x", Metadata: NewMetadata(time.Unix(1, 0))})
	}
	packed, err := Pack(es, wk)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(packed, wk)
	if err != nil || len(back) != 10000 {
		t.Fatalf("%d entries back, %v", len(back), err)
	}
	// Decoded on several goroutines, every entry is back in its place.
	sorted := append([]Entry(nil), es...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Name < sorted[b].Name })
	for i := range back {
		if back[i].Name != sorted[i].Name || back[i].RWCap != sorted[i].RWCap || back[i].ROCap != sorted[i].ROCap || string(back[i].Metadata) != string(sorted[i].Metadata) {
			t.Fatalf("entry %d: %+v, want %+v", i, back[i], sorted[i])
		}
	}
	// A bad entry deep inside is found, and the first bad one is named.
	for _, bad := range []int{9000, 10} {
		es2 := append([]Entry(nil), sorted...)
		es2[bad].Metadata = []byte("{not json")
		es2[9500].Metadata = []byte("{also not json")
		p2, err := Pack(es2, wk)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(p2, wk); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), strconv.Quote(sorted[bad].Name)) {
			t.Errorf("bad entry %d: %v", bad, err)
		}
	}
	if es, err := Parse(nil, wk); es != nil || err != nil {
		t.Errorf("empty directory: %v %v", es, err)
	}
}

func BenchmarkParse10000(b *testing.B) {
	wk := []byte("0123456789abcdef")
	var es []Entry
	for i := 0; i < 10000; i++ {
		es = append(es, Entry{Name: "file-" + strconv.Itoa(i), RWCap: "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", ROCap: "URI:SSK-RO:x", Metadata: NewMetadata(time.Unix(1, 0))})
	}
	packed, _ := Pack(es, wk)
	b.SetBytes(int64(len(packed)))
	for b.Loop() {
		if _, err := Parse(packed, wk); err != nil {
			b.Fatal(err)
		}
	}
}
