//go:build !unix

package chk

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
