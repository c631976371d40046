package lafscmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: lafs check prints a table, --json a line per object, and
// exits 1 (with a hint) when something is unhealthy and not repaired.
func TestCheck(t *testing.T) {
	n := newTestNode(t)
	if err := os.WriteFile(filepath.Join(n.cwd, "f"), []byte(strings.Repeat("x", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	n.ok("put", "f", "home:f")
	out := n.ok("check", "home:f")
	if !strings.Contains(out, "home:f") || !strings.Contains(out, "4/4") {
		t.Errorf("check:\n%s", out)
	}
	out = n.ok("check", "--json", "-r", "home:")
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("--json line %q: %v", l, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[1]["path"] != "home:f" || rows[1]["healthy"] != true || rows[1]["shares_good"] != 4.0 {
		t.Fatalf("--json -r: %v", rows)
	}
	m, _ := filepath.Glob(filepath.Join(n.dir, "local-grid", "*", "shares", "*", "*", "*"))
	removed := 0
	for _, p := range m {
		if strings.HasSuffix(p, "/0") || strings.HasSuffix(p, "/1") {
			os.Remove(p)
			removed++
		}
	}
	if removed == 0 {
		t.Fatal("no share files found to remove")
	}
	out, errs, code := n.run("check", "-r", "home:")
	if code != 1 || !strings.Contains(errs, "unhealthy and not repaired: 2 of 2 objects") || !strings.Contains(errs, "hint: lafs check --repair") || !strings.Contains(out, " no ") {
		t.Errorf("unhealthy: exit %d\n%s\n%s", code, out, errs)
	}
	out = n.ok("check", "-r", "--repair", "home:")
	if !strings.Contains(out, "REPAIRED") || strings.Count(out, " yes ") < 2 {
		t.Errorf("repair:\n%s", out)
	}
	n.ok("check", "-r", "--verify", "home:")
	if _, errs, code := n.run("check"); code != 2 || !strings.Contains(errs, "PATH") {
		t.Errorf("no path: exit %d %q", code, errs)
	}
}
