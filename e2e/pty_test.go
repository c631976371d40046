//go:build unix

package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"
)

// onTerminal runs name args with stdin, stdout and stderr on a pseudo
// terminal of 80 columns (so command.System sees a terminal, as a person's
// shell gives it) and returns what the terminal showed and the exit code.
func onTerminal(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(command(t, name), args...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, f) // EIO when the command exits and closes its side
	var pe *os.PathError
	if err != nil && !(errors.As(err, &pe) && errors.Is(pe.Err, syscall.EIO)) {
		t.Fatal(err)
	}
	f.Close()
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

// TestOnTerminal: on a real terminal (a pty) lafs ls -l fits 80 columns
// with caps cut by …, names from the grid are escaped, and cat refuses
// binary data; the same commands piped print tab-separated rows and the
// bytes.
func TestOnTerminal(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	node := filepath.Join(dir, "node")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LAFS_NODE_DIRECTORY="+node)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(command(t, name), args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return string(out)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin.dat"), []byte("\x00\x01binary\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), bytes.Repeat([]byte("z"), 200000), 0o644); err != nil {
		t.Fatal(err)
	}
	run("tahoe", "create-client", "--local-grid", "4", "--shares-needed", "2", "--shares-happy", "3", "--shares-total", "4", node)
	run("lafs", "alias", "add", "home")
	run("lafs", "put", filepath.Join(dir, "bin.dat"), "home:bin.dat")
	run("lafs", "put", filepath.Join(dir, "big.bin"), "home:evil\x1b[2Jname")

	screen, code := onTerminal(t, env, "lafs", "ls", "-l", "home:")
	if code != 0 {
		t.Fatalf("ls -l: exit %d\n%s", code, screen)
	}
	if !strings.Contains(screen, "NAME") || !strings.Contains(screen, "…") || !strings.Contains(screen, `evil\x1b[2Jname`) || strings.ContainsRune(screen, 0x1b) {
		t.Fatalf("ls -l on a terminal:\n%q", screen)
	}
	for _, l := range strings.Split(screen, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("a %d-column line on an 80-column terminal: %q", n, l)
		}
	}
	if piped := run("lafs", "ls", "-l", "home:"); !strings.Contains(piped, "bin.dat\tfile\t9\t") || strings.Contains(piped, "…") {
		t.Fatalf("ls -l piped: %q", piped)
	}

	screen, code = onTerminal(t, env, "lafs", "cat", "home:bin.dat")
	if code != 1 || !strings.Contains(screen, "binary output can mess up your terminal") || strings.Contains(screen, "binary\xff") {
		t.Fatalf("cat binary on a terminal: exit %d %q", code, screen)
	}
	if piped := run("lafs", "cat", "home:bin.dat"); piped != "\x00\x01binary\xff" {
		t.Fatalf("cat piped: %q", piped)
	}

	screen, code = onTerminal(t, env, "lafs", "status")
	if code != 0 || !strings.Contains(screen, "NICKNAME") || !strings.Contains(screen, "GiB") && !strings.Contains(screen, "MiB") && !strings.Contains(screen, "TiB") {
		t.Fatalf("status on a terminal: exit %d\n%s", code, screen)
	}
	for _, l := range strings.Split(screen, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("status: a %d-column line on an 80-column terminal: %q", n, l)
		}
	}
	if piped := run("lafs", "status"); strings.Contains(piped, "NICKNAME") || !strings.Contains(piped, "\tyes\t") {
		t.Fatalf("status piped: %q", piped)
	}
}

// TestCpProgressFiles: lafs cp -r and lafs backup on a terminal show
// files done of the total beside the bytes ("5/5 files, 20.0 KiB/20.0
// KiB"), within 80 columns; piped, stderr stays empty.
func TestCpProgressFiles(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	node := filepath.Join(dir, "node")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LAFS_NODE_DIRECTORY="+node)
	for i := 0; i < 5; i++ {
		if err := os.MkdirAll(filepath.Join(dir, "tree", "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "tree", string(rune('a'+i))+".bin")
		if i%2 == 1 {
			p = filepath.Join(dir, "tree", "sub", string(rune('a'+i))+".bin")
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(command(t, name), args...)
		cmd.Env, cmd.Dir = env, dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return string(out), stderr.String()
	}
	run("tahoe", "create-client", "--local-grid", "4", "--shares-needed", "2", "--shares-happy", "3", "--shares-total", "4", node)
	run("lafs", "alias", "add", "home")
	screen, code := onTerminal(t, env, "lafs", "cp", "-r", filepath.Join(dir, "tree"), "home:tty")
	if code != 0 || !strings.Contains(screen, "5/5 files, 20.0 KiB/20.0 KiB") {
		t.Fatalf("cp -r on a terminal: exit %d %q", code, screen)
	}
	for _, l := range strings.Split(strings.NewReplacer("\r", "\n", "\x1b[K", "").Replace(screen), "\n") {
		if n := utf8.RuneCountInString(l); n >= 80 {
			t.Errorf("a %d-column progress line on an 80-column terminal: %q", n, l)
		}
	}
	if out, errs := run("lafs", "cp", "-r", filepath.Join(dir, "tree"), "home:piped"); out != "" || errs != "" {
		t.Fatalf("cp -r piped: stdout %q stderr %q", out, errs)
	}
	// lafs backup draws the same bar, then its summary.
	screen, code = onTerminal(t, env, "lafs", "backup", filepath.Join(dir, "tree"), "home:bk")
	if code != 0 || !strings.Contains(screen, "backup [") || !strings.Contains(screen, "5/5 files, 20.0 KiB/20.0 KiB") || !strings.Contains(screen, "files: 5 uploaded, 0 unchanged") {
		t.Fatalf("backup on a terminal: exit %d %q", code, screen)
	}
	if out, errs := run("lafs", "backup", filepath.Join(dir, "tree"), "home:bk"); !strings.Contains(out, "files: 0 uploaded, 5 unchanged") || errs != "" {
		t.Fatalf("backup piped: stdout %q stderr %q", out, errs)
	}
}
