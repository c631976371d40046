// Package e2e holds the end-to-end tests of the tahoe and lafs commands:
// testscript scripts (testdata/*.txtar) that run the real command trees in
// this package's test binary (testscript.Main) and assert their stdout,
// stderr and exit status, like a terminal session; and benchmarks of whole
// command runs.
package e2e
