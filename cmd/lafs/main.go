// Command lafs is the porcelain binary of lafs: commands for people working
// with a Tahoe-LAFS grid, with tables, progress on a terminal, --json for
// scripts and clear one-line errors. The commands live in
// cmd/lafs/lafscmd, so the end-to-end tests can run them in process.
package main

import (
	"os"

	"github.com/lafs/lafs/cmd/lafs/lafscmd"
)

func main() { os.Exit(lafscmd.Main()) }
