package tahoecmd

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/client/dirnode"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLsGolden pins `tahoe ls` layouts to golden files written in Tahoe's
// format (tahoe_ls.py): "%b %d %H:%M" for recent links, "%b %d  %Y" for
// ones older than six months, right-aligned columns except caps.
func TestLsGolden(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	md := func(t time.Time) []byte { return dirnode.NewMetadata(t) }
	entries := []dirnode.Entry{
		{Name: "report.pdf", ROCap: "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa:3:10:86319377", Metadata: md(now.Add(-2 * time.Hour))},
		{Name: "docs", RWCap: "URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", ROCap: "URI:DIR2-RO:4jizhmespzudyajo5l7xw6cil4:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", Metadata: md(now.AddDate(-1, 0, 0))},
		{Name: "notes", RWCap: "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", ROCap: "URI:SSK-RO:4jizhmespzudyajo5l7xw6cil4:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", Metadata: md(now.Add(-30 * 24 * time.Hour))},
		{Name: "hi.txt", ROCap: "URI:LIT:nbswy3dp", Metadata: []byte(`{"ctime": 1790000000.5}`)},
	}
	for name, o := range map[string]lsOptions{
		"ls-plain": {},
		"ls-l":     {Long: true},
		"ls-lF":    {Long: true, Classify: true},
		"ls-uri":   {URI: true},
		"ls-l-ro":  {Long: true, ReadOnlyURI: true},
	} {
		lines, unknown := formatLs(append([]dirnode.Entry(nil), entries...), o, now)
		if unknown {
			t.Fatal("no unknown entries here")
		}
		got := strings.Join(lines, "\n") + "\n"
		path := "testdata/" + name + ".golden"
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update once)", err)
		}
		if got != string(want) {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", name, got, want)
		}
	}
}
