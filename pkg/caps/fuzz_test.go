package caps

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that any input either fails with an error or parses to a
// cap whose canonical string parses back to the same cap (a fixed point),
// and that attenuation and derived values never panic.
func FuzzParse(f *testing.F) {
	if fh, err := os.Open("testdata/vector-caps.txt"); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if line := sc.Text(); !strings.HasPrefix(line, "#") {
				f.Add(line)
			}
		}
		fh.Close()
	}
	for _, s := range []string{"", "URI:", "URI:LIT:", "ro.URI:LIT:mfrgg", "imm.URI:DIR2-LIT:", "URI:MDMF:a:b:c", "URI:CHK-Verifier:::::", "x-tahoe-future-test-writeable:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse(%q) returned both a cap and an error", s)
			}
			return
		}
		out := c.String()
		if c.IsUnknown() {
			if out != s {
				t.Fatalf("unknown cap not kept verbatim: %q -> %q", s, out)
			}
			return
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", out, s, err)
		}
		if again.String() != out || again.Kind != c.Kind {
			t.Fatalf("not a fixed point: %q -> %q -> %q", s, out, again.String())
		}
		for _, l := range []Level{LevelWrite, LevelRead, LevelVerify} {
			if a, err := c.Attenuate(l); err == nil {
				if _, err := Parse(a.String()); err != nil {
					t.Fatalf("attenuated cap %q does not parse: %v", a, err)
				}
			}
		}
	})
}
