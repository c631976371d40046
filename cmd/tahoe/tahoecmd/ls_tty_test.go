//go:build unix

package tahoecmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/lafs/lafs/internal/command"
	"github.com/mattn/go-isatty"
)

// TestLsControlCharacters: a name holding an escape sequence is written
// byte for byte to a pipe (as Tahoe's ls does), and escaped as GNU ls
// escapes it when stdout is a terminal (a real pty), so a shared
// directory cannot drive its reader's terminal.
func TestLsControlCharacters(t *testing.T) {
	n := newTestNode(t)
	evil := "evil\x1b]0;pwned\x07\x1b[31mred"
	n.ok("-d", n.dir, "put", n.file("a.txt", "a"), "home:"+evil)
	n.ok("-d", n.dir, "put", n.file("b.txt", "b"), "home:plain")

	if got := n.ok("-d", n.dir, "ls", "home:"); got != evil+"\nplain\n" {
		t.Fatalf("ls to a pipe: %q", got)
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer ptmx.Close()
	if !isatty.IsTerminal(tty.Fd()) {
		t.Fatal("the pty's slave is not a terminal")
	}
	var errb bytes.Buffer
	stdio := &command.IO{In: strings.NewReader(""), Out: tty, Err: &errb, OutTTY: isatty.IsTerminal(tty.Fd())}
	code := Run(context.Background(), []string{"tahoe", "-d", n.dir, "ls", "-l", "home:"}, stdio)
	tty.Close()
	if code != 0 {
		t.Fatalf("ls on a terminal: exit %d: %s", code, errb.String())
	}
	got, _ := io.ReadAll(ptmx) // ends with EIO once the slave is closed
	out := strings.ReplaceAll(string(got), "\r\n", "\n")
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("control characters reached the terminal: %q", out)
	}
	want := `'evil'$'\033'']0;pwned'$'\007'$'\033''[31mred'`
	if !strings.Contains(out, " "+want+"\n") || !strings.Contains(out, " plain\n") {
		t.Fatalf("ls -l on a terminal:\n%s\nwant a row ending in %s", out, want)
	}
}
