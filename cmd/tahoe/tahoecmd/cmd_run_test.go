package tahoecmd

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/node"
)

func runTestNodeDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	opts := node.NewNodeOptions()
	opts.Hostname = "127.0.0.1"
	opts.WebPort = "none"
	if err := node.CreateNode(dir, opts); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitListening waits for the node to write its NURL.
func waitListening(t *testing.T, dir string, done <-chan int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "private", "storage.nurl")); err == nil {
			return
		}
		select {
		case code := <-done:
			t.Fatalf("node exited early with %d", code)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("node never listened")
}

// TestRunStdinClose: as Tahoe 1.17+, 'tahoe run' stops (cleanly, exit 0)
// when its standard input closes, however that input is shaped, and
// --allow-stdin-close keeps it running until it is interrupted.
func TestRunStdinClose(t *testing.T) {
	inputs := []struct {
		name string
		make func() (io.Reader, func()) // the input and what closes it
	}{
		{"empty at start", func() (io.Reader, func()) { return strings.NewReader(""), func() {} }},
		{"data then end", func() (io.Reader, func()) { return strings.NewReader("ignored\nlines\n"), func() {} }},
		{"pipe closed later", func() (io.Reader, func()) {
			r, w := io.Pipe()
			go w.Write([]byte("x"))
			return r, func() { w.Close() }
		}},
		{"os pipe closed later", func() (io.Reader, func()) {
			r, w, err := os.Pipe()
			if err != nil {
				panic(err)
			}
			return r, func() { w.Close() }
		}},
	}
	for _, in := range inputs {
		for _, allow := range []bool{false, true} {
			name := in.name
			if allow {
				name += "/allow-stdin-close"
			}
			t.Run(name, func(t *testing.T) {
				dir := runTestNodeDir(t)
				r, closeIn := in.make()
				if f, ok := r.(*os.File); ok {
					defer f.Close()
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				args := []string{"tahoe", "run"}
				if allow {
					args = append(args, "--allow-stdin-close")
				}
				var errb bytes.Buffer
				done := make(chan int, 1)
				go func() {
					done <- Run(ctx, append(args, dir), &command.IO{In: r, Out: io.Discard, Err: &syncWriter{w: &errb}})
				}()
				if allow || strings.Contains(in.name, "later") {
					waitListening(t, dir, done)
				}
				closeIn()
				if allow {
					select {
					case code := <-done:
						t.Fatalf("exited (%d) when stdin closed despite --allow-stdin-close", code)
					case <-time.After(300 * time.Millisecond):
					}
					cancel()
				}
				select {
				case code := <-done:
					if code != 0 {
						t.Fatalf("exit %d: %s", code, errb.String())
					}
				case <-time.After(30 * time.Second):
					t.Fatal("the node did not stop")
				}
			})
		}
	}
}

// syncWriter serialises writes from the node's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
