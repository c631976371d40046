// Package e2e holds the end-to-end tests of the tahoe and lafs binaries:
// testscript scripts (testdata/*.txtar) that run the real built binaries and
// assert their stdout, stderr and exit status, like a terminal session.
package e2e
