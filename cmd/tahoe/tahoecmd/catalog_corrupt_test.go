package tahoecmd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shareNode makes a node directory whose storage/shares holds copies of
// testdata/shares (share files a real Tahoe 1.20 storage server wrote),
// plus an incoming/ share (skipped), a text file and a truncated
// immutable header where shares would be.
func shareNode(t *testing.T) string {
	t.Helper()
	nd := t.TempDir()
	dst := filepath.Join(nd, "storage", "shares")
	err := filepath.WalkDir(filepath.Join("testdata", "shares"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join("testdata", "shares"), p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"incoming/aa/aaaa/0":               "junk\n",
		"zz/zzzzzzzzzzzzzzzzzzzzzzzzzz/10": "not a share at all, just text\n",
		"zz/zzzzzzzzzzzzzzzzzzzzzzzzzz/2":  "\x00\x00\x00\x01short",
	} {
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return nd
}

// TestCatalogSharesMatchesTahoe: catalog-shares over share files a real
// Tahoe wrote prints what real Tahoe 1.20 printed for the same tree at
// the same clock (the golden is its stdout, run with time.time pinned);
// what cannot be read is reported on stderr and skipped.
func TestCatalogSharesMatchesTahoe(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "catalog-shares.golden"))
	if err != nil {
		t.Fatal(err)
	}
	nd := shareNode(t)
	var out, errb bytes.Buffer
	now := func() time.Time { return time.Unix(1764000000, 250_000_000) }
	if err := runCatalogShares(&out, &errb, catalogOptions{NodeDirs: []string{nd, filepath.Join(nd, "nonexistent")}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if w := strings.ReplaceAll(string(want), "<node>", nd); out.String() != w {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), w)
	}
	bad := "Error processing '" + filepath.Join(nd, "storage/shares/zz/zzzzzzzzzzzzzzzzzzzzzzzzzz/2") + "'\n"
	if !strings.HasPrefix(errb.String(), bad) || strings.Count(errb.String(), "Error processing") != 1 {
		t.Fatalf("stderr %q, want one %q", errb.String(), bad)
	}
}

// TestCorruptShare: corrupt-share flips exactly the bit it names, inside
// the block data of each kind of share, and refuses what is not a share
// and offsets other than block-random.
func TestCorruptShare(t *testing.T) {
	nd := shareNode(t)
	sh := filepath.Join(nd, "storage", "shares")
	for _, tc := range []struct {
		name, rel  string
		start, end int64
	}{
		// Ranges from Tahoe's dump-share --offsets of the same files:
		// block data up to plaintext_hash_tree (CHK), enc_privkey (SDMF),
		// block_hash_tree (MDMF).
		{"chk", "i7/i74rtiv64t7ak26jozv4nn2rkq/5", 48, 382},
		{"sdmf", "4b/4b2wcstn2iz4jnqcc4va75wnfm/1", 1259, 1926},
		{"mdmf", "uv/uv6pntg25dgoar53ibrivdh4xy/2", 2635, 3318},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(sh, tc.rel)
			before, _ := os.ReadFile(p)
			var out bytes.Buffer
			if err := runCorruptShare(&out, corruptOptions{Filename: p, Offset: "block-random", Rand: rand.New(rand.NewPCG(1, 2))}); err != nil {
				t.Fatal(err)
			}
			var start, end, off int64
			var bit int
			if _, err := fmt.Sscanf(out.String(), "[%d..%d):  %d.b%d\n", &start, &end, &off, &bit); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if start != tc.start || end != tc.end || off < start || off >= end {
				t.Fatalf("output %q, want range [%d..%d)", out.String(), tc.start, tc.end)
			}
			after, _ := os.ReadFile(p)
			for i := range before {
				want := before[i]
				if int64(i) == off {
					want ^= 1 << bit
				}
				if after[i] != want {
					t.Fatalf("byte %d: %#x, want %#x (flipped %d.b%d)", i, after[i], want, off, bit)
				}
			}
		})
	}
	for _, tc := range []struct{ name, file, offset string }{
		{"text file", "zz/zzzzzzzzzzzzzzzzzzzzzzzzzz/10", "block-random"},
		{"truncated", "zz/zzzzzzzzzzzzzzzzzzzzzzzzzz/2", "block-random"},
		{"offset", "i7/i74rtiv64t7ak26jozv4nn2rkq/5", "12"},
		{"missing", "no/such", "block-random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(sh, tc.file)
			before, _ := os.ReadFile(p)
			if err := runCorruptShare(&bytes.Buffer{}, corruptOptions{Filename: p, Offset: tc.offset}); err == nil {
				t.Fatal("no error")
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Fatal("the file changed")
			}
		})
	}
}
