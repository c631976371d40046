package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lafs/lafs/cmd/lafs/lafscmd"
	"github.com/lafs/lafs/cmd/tahoe/tahoecmd"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes this test binary the tahoe and lafs binaries too, as
// FiloSottile/age does: testscript puts copies of it named tahoe and lafs
// on the scripts' PATH, and when it runs under one of those names it is
// that command. So the scripts run the real command trees (and count
// towards their coverage) with no separate build. A dev grid's node
// processes are this binary re-executed as lafs ('lafs grid serve').
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tahoe": func() { os.Exit(tahoecmd.Main()) },
		"lafs":  func() { os.Exit(lafscmd.Main()) },
	})
}

// command returns the path of a command testscript put on PATH.
func command(tb testing.TB, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s is not on PATH: %v", name, err)
	}
	return p
}

func params(t *testing.T, dir string) testscript.Params {
	lafs := command(t, "lafs")
	return testscript.Params{
		Dir:  dir,
		Cmds: scriptCmds(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("GOOS", runtime.GOOS)
			env.Values[gwKey{}] = &gwHolder{}
			// Scripts keep dev grids under $WORK/grid*; stop whatever they
			// started, even when a script fails half way.
			work := env.WorkDir
			env.Defer(func() {
				grids, _ := filepath.Glob(filepath.Join(work, "grid*"))
				for _, g := range grids {
					_ = exec.Command(lafs, "grid", "down", g).Run()
				}
			})
			return nil
		},
		Condition: condition,
	}
}

func TestScripts(t *testing.T) {
	testscript.Run(t, params(t, "testdata"))
}
