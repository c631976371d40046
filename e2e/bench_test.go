package e2e

import (
	"os/exec"
	"testing"
)

// BenchmarkStartup measures whole-process start-up: fork, exec, run, exit.
// `true` from the system is the machine's floor in the same run. The
// commands are this test binary under the names tahoe and lafs
// (testscript.Main), so the figures include the test binary's own start
// (and the race detector's under -race): compare runs of the same kind.
func BenchmarkStartup(b *testing.B) {
	cases := []struct {
		name string
		argv []string
	}{
		{"floor-true", []string{"true"}},
		{"lafs-version", []string{command(b, "lafs"), "version"}},
		{"tahoe-version", []string{command(b, "tahoe"), "--version"}},
		{"lafs-attenuate", []string{command(b, "lafs"), "attenuate", "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if out, err := exec.Command(c.argv[0], c.argv[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", c.argv, err, out)
				}
			}
		})
	}
}
