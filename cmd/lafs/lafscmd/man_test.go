package lafscmd

import (
	"strings"
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

// TestManPagesCurrent fails when a man/lafs-NAME.1 no longer matches its
// command, or a command has none: run 'make man' and commit the result.
func TestManPagesCurrent(t *testing.T) {
	app := NewApp(NewFactory(command.System(), func(string) string { return "" }))
	command.Prepare(app)
	pages := manPages(app)
	for _, want := range []string{"lafs-put.1", "lafs-alias-add.1", "lafs-share.1", "lafs-cat.1", "lafs-init.1"} {
		p, ok := pages[want]
		if !ok {
			t.Fatalf("no %s", want)
		}
		for _, sec := range []string{".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"} {
			if !strings.Contains(p, sec) {
				t.Errorf("%s has no %s", want, sec)
			}
		}
	}
	if err := command.CheckManPages("../../../man", "lafs-", pages); err != nil {
		t.Fatal(err)
	}
}
