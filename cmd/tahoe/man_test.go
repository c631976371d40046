package main

import (
	"os"
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// TestManPageCurrent fails when man/tahoe.1 no longer matches the command
// definitions: run 'make man' and commit the result.
func TestManPageCurrent(t *testing.T) {
	app := newApp(command.System())
	command.Prepare(app)
	want, err := command.ManPage(app)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../man/tahoe.1")
	if err != nil {
		t.Fatalf("%v (run 'make man')", err)
	}
	if string(got) != want {
		t.Fatal("man/tahoe.1 is stale: run 'make man' and commit it")
	}
}
