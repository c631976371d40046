package lafscmd

import (
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// TestManPageCurrent fails when man/lafs.1 no longer matches the command
// definitions: run 'make man' and commit the result.
func TestManPageCurrent(t *testing.T) {
	app := NewApp(NewFactory(command.System(), func(string) string { return "" }))
	command.Prepare(app)
	if err := command.CheckManPage(app, "../../../man/lafs.1"); err != nil {
		t.Fatal(err)
	}
}
