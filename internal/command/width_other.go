//go:build !unix

package command

import "os"

// termWidth is the terminal's width in columns (unknown here: 0).
func termWidth(*os.File) int { return 0 }
