package tahoecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage/shares"
)

// TestDumpShareMatchesTahoe: `debug dump-share` of share files written
// by a real Tahoe 1.20 storage server prints what Tahoe's printed for
// them (the golden files are its output, from the shared vectors), the
// lease's remaining time pinned to what it was then.
func TestDumpShareMatchesTahoe(t *testing.T) {
	for _, tc := range []struct {
		golden, si, shnum string
		offsets           bool
	}{
		{"chk", "i74rtiv64t7ak26jozv4nn2rkq", "5", false},
		{"chk-offsets", "i74rtiv64t7ak26jozv4nn2rkq", "5", true},
		{"chk_multiseg", "njkqu33lwaqz34dwxzcyff5jgq", "5", false},
		{"sdmf", "4b2wcstn2iz4jnqcc4va75wnfm", "1", false},
		{"sdmf-offsets", "4b2wcstn2iz4jnqcc4va75wnfm", "1", true},
		{"mdmf", "uv6pntg25dgoar53ibrivdh4xy", "2", false},
		{"mdmf-offsets", "uv6pntg25dgoar53ibrivdh4xy", "2", true},
		{"dir", "4drya2rjsgyeaxu55qg3arjsmq", "4", false},
		{"dir-offsets", "4drya2rjsgyeaxu55qg3arjsmq", "4", true},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "dump-share-"+tc.golden+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			rel := filepath.Join("shares", tc.si[:2], tc.si, tc.shnum)
			path, err := filepath.Abs(filepath.Join("testdata", rel))
			if err != nil {
				t.Fatal(err)
			}
			now := clockFromGolden(t, string(want), path)
			var out bytes.Buffer
			if err := runDumpShare(&out, dumpShareOptions{Filename: path, Offsets: tc.offsets, Now: func() time.Time { return now }}); err != nil {
				t.Fatal(err)
			}
			w := strings.Replace(string(want), "'<nodes>/s1/storage/"+filepath.ToSlash(rel)+"'", "'"+path+"'", 1)
			if out.String() != w {
				t.Fatalf("got:\n%s\nwant:\n%s", out.String(), w)
			}
		})
	}
}

// clockFromGolden returns the time at which Tahoe printed want for the
// share at path: its "expire(s) in Ns" is N seconds before the lease's
// expiration (half a second in, as Tahoe's clock was fractional).
func clockFromGolden(t *testing.T, want, path string) time.Time {
	t.Helper()
	var remains int64
	for _, l := range strings.Split(want, "\n") {
		for _, marker := range []string{"expire in ", "expires in "} {
			if i := strings.Index(l, marker); i >= 0 {
				var s string
				if _, err := fmtSscan(l[i+len(marker):], &s); err == nil {
					remains, _ = parseSeconds(s)
				}
			}
		}
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fi, _ := fh.Stat()
	info, err := shares.Inspect(osFile{fh, fi.Size()})
	if err != nil || len(info.Leases) != 1 {
		t.Fatalf("inspect: %+v %v", info, err)
	}
	return time.Unix(int64(info.Leases[0].Expiration)-remains-1, 500_000_000)
}

func fmtSscan(s string, v *string) (int, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, os.ErrInvalid
	}
	*v = f[0]
	return 1, nil
}

func parseSeconds(s string) (int64, error) {
	var n int64
	for _, c := range strings.TrimSuffix(strings.TrimSuffix(s, ","), "s") {
		if c < '0' || c > '9' {
			return 0, os.ErrInvalid
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// TestFindShares: share files of one storage index across node
// directories, as Tahoe's find-shares lists them.
func TestFindShares(t *testing.T) {
	abs, _ := filepath.Abs("testdata")
	var out bytes.Buffer
	// testdata stands for a node directory whose storage/shares is
	// testdata/shares: make that shape with a link.
	nd := t.TempDir()
	if err := os.MkdirAll(filepath.Join(nd, "storage"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(abs, "shares"), filepath.Join(nd, "storage", "shares")); err != nil {
		t.Skip(err)
	}
	if err := runFindShares(&out, "i74rtiv64t7ak26jozv4nn2rkq", []string{nd, t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(nd, "storage/shares/i7/i74rtiv64t7ak26jozv4nn2rkq/5") + "\n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	if err := runFindShares(&out, "not-an-si", []string{nd}); err == nil {
		t.Fatal("a bad storage index was accepted")
	}
}
