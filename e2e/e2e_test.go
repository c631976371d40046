package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// binDir holds the tahoe and lafs binaries built once for all scripts.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lafs-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := func() int {
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/tahoe", "./cmd/lafs")
		cmd.Dir = ".."
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building the binaries:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func params(t *testing.T, dir string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("GOOS", runtime.GOOS)
			// Scripts keep dev grids under $WORK/grid*; stop whatever they
			// started, even when a script fails half way.
			work := env.WorkDir
			env.Defer(func() {
				grids, _ := filepath.Glob(filepath.Join(work, "grid*"))
				for _, g := range grids {
					_ = exec.Command(filepath.Join(binDir, "lafs"), "grid", "down", g).Run()
				}
			})
			return nil
		},
	}
}

func TestScripts(t *testing.T) {
	testscript.Run(t, params(t, "testdata"))
}
