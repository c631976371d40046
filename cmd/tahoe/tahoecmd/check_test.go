package tahoecmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

// TestCheckCommands: tahoe check, deep-check, manifest and stats on an
// embedded grid, through the command line.
func TestCheckCommands(t *testing.T) {
	n := newTestNode(t)
	n.ok("-d", n.dir, "put", n.file("f", strings.Repeat("data ", 100)), "home:f")
	n.ok("-d", n.dir, "mkdir", "home:sub")
	n.ok("-d", n.dir, "put", n.file("g", "tiny"), "home:sub/g")
	out := n.ok("-d", n.dir, "check", "home:f")
	if !strings.HasPrefix(out, "Summary: Healthy\n storage index: ") || !strings.Contains(out, " good-shares: 4 (encoding is 2-of-4)\n") {
		t.Errorf("check:\n%s", out)
	}
	si := strings.TrimSpace(n.ok("-d", n.dir, "manifest", "--storage-index", "home:f"))
	if len(si) != 26 {
		t.Fatalf("manifest --storage-index: %q", si)
	}
	m, _ := filepath.Glob(filepath.Join(n.dir, "local-grid", "*", "shares", si[:2], si, "*"))
	if len(m) != 4 {
		t.Fatalf("share files: %v", m)
	}
	os.Remove(m[0])
	if out := n.ok("-d", n.dir, "check", "home:f"); !strings.HasPrefix(out, "Summary: Not Healthy: 3 shares (enc 2-of-4)\n") {
		t.Errorf("check after losing a share:\n%s", out)
	}
	if out := n.ok("-d", n.dir, "check", "--repair", "home:f"); !strings.HasSuffix(out, " repair successful\n") {
		t.Errorf("check --repair:\n%s", out)
	}
	if out := n.ok("-d", n.dir, "check", "--raw", "--verify", "home:f"); !strings.Contains(out, `"count-shares-good": 4,`) {
		t.Errorf("check --raw --verify:\n%s", out)
	}
	out = n.ok("-d", n.dir, "deep-check", "-v", "home:")
	if !strings.HasPrefix(out, "'<root>': Healthy\n'f': Healthy\n'sub': Healthy\n'sub/g': Healthy (LIT)\n") ||
		!strings.HasSuffix(out, "done: 4 objects checked, 4 healthy, 0 unhealthy\n") {
		t.Errorf("deep-check -v:\n%s", out)
	}
	out = n.ok("-d", n.dir, "manifest", "home:")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[1], " f") || !strings.HasSuffix(lines[3], " sub/g") {
		t.Errorf("manifest:\n%s", out)
	}
	if _, err := caps.Parse(strings.Fields(lines[1])[0]); err != nil {
		t.Errorf("manifest cap: %v", err)
	}
	if out := n.ok("-d", n.dir, "stats", "home:"); !strings.Contains(out, "   count-literal-files: 1\n") || !strings.Contains(out, "     count-directories: 2\n") {
		t.Errorf("stats:\n%s", out)
	}
	if out := n.ok("-d", n.dir, "stats", "-r", "home:"); !strings.Contains(out, "\"finished\": true\n}\n") {
		t.Errorf("stats --raw:\n%s", out)
	}
	if _, errs, code := n.run("-d", n.dir, "check", "nope:x"); code != 1 || !strings.Contains(errs, "nope") {
		t.Errorf("unknown alias: %d %q", code, errs)
	}
}
