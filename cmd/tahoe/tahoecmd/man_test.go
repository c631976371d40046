package tahoecmd

import (
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// TestManPageCurrent fails when man/tahoe.1 no longer matches the command
// definitions: run 'make man' and commit the result.
func TestManPageCurrent(t *testing.T) {
	app := NewApp(NewFactory(command.System()))
	command.Prepare(app)
	if err := command.CheckManPage(app, "../../../man/tahoe.1"); err != nil {
		t.Fatal(err)
	}
}
