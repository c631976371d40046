package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestReadmeTour runs the README's lafs tour (testdata/tour.sh, the same
// text as README.md's "A short tour" block) with bash -e on a fresh HOME,
// with bin/lafs and bin/tahoe as in a checkout after 'make build'.
func TestReadmeTour(t *testing.T) {
	tour, err := os.ReadFile("testdata/tour.sh")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```sh\n"+string(tour)+"```\n") {
		t.Fatal("README.md's tour is not testdata/tour.sh: copy it there, in a ```sh block")
	}
	dir := t.TempDir()
	script := "[!exec:bash] skip\nexec bash -e tour.sh\n! stderr 'error'\nexists $HOME/.tahoe/local-grid\n-- tour.sh --\n" + string(tour)
	if err := os.WriteFile(filepath.Join(dir, "tour.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := params(t, dir)
	setup := p.Setup
	lafs, tahoe := command(t, "lafs"), command(t, "tahoe")
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		bin := filepath.Join(env.WorkDir, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			return err
		}
		if err := os.Symlink(lafs, filepath.Join(bin, "lafs")); err != nil {
			return err
		}
		return os.Symlink(tahoe, filepath.Join(bin, "tahoe"))
	}
	testscript.Run(t, p)
}
