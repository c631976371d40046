// Command tahoe is the plumbing binary of lafs: Tahoe-LAFS's own `tahoe`
// subcommands with the same flags, output, exit codes and node directory, so
// scripts written for Tahoe-LAFS keep working. The commands live in
// cmd/tahoe/tahoecmd, so the end-to-end tests can run them in process.
package main

import (
	"os"

	"github.com/lafs/lafs/cmd/tahoe/tahoecmd"
)

func main() { os.Exit(tahoecmd.Main()) }
