package storage_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientsLinkNoServer: the client-facing API and the GBS client link
// neither SQLite nor the server side (run with the go tool at hand).
func TestClientsLinkNoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	for _, pkg := range []string{"github.com/lafs/lafs/pkg/storage", "github.com/lafs/lafs/pkg/client/gbs"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{"modernc.org/sqlite", "/pkg/storage/leasedb", "/pkg/storage/gbsserver", "/pkg/storage/shares", "/pkg/node"} {
				if strings.Contains(dep, banned) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
