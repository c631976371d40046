package lafscmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// TestGridUpRefusesUpFront: every request 'grid up' cannot carry out is a
// usage error (exit 2) before anything is made or started, and leaves the
// directory as it was.
func TestGridUpRefusesUpFront(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string) // makes the directory's contents
		args  []string
		want  string // in stderr
	}{
		{"non-empty directory that is not a grid", func(d string) {
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "notes.txt"), []byte("mine"), 0o644)
		}, nil, "not empty"},
		{"directory holding only a hidden file", func(d string) { os.MkdirAll(d, 0o755); os.WriteFile(filepath.Join(d, ".x"), nil, 0o644) }, nil, "not empty"},
		{"directory holding a client only", func(d string) { os.MkdirAll(filepath.Join(d, "client"), 0o755) }, nil, "not empty"},
		{"a file, not a directory", func(d string) { os.WriteFile(d, []byte("x"), 0o644) }, nil, "not a directory"},
		{"needed more than total", nil, []string{"--needed", "6", "--total", "5"}, "more than --total"},
		{"needed far more than total", nil, []string{"--needed", "200", "--happy", "1", "--total", "3"}, "more than --total"},
		{"zero needed", nil, []string{"--needed", "0"}, "--needed 0"},
		{"negative needed", nil, []string{"--needed", "-1"}, "--needed -1"},
		{"total over 256", nil, []string{"--total", "257"}, "--total 257"},
		{"happy over total", nil, []string{"--happy", "6", "--total", "5"}, "--happy 6"},
		{"zero happy", nil, []string{"--happy", "0"}, "--happy 0"},
		{"zero servers", nil, []string{"--servers", "0"}, "--servers 0"},
		{"negative servers", nil, []string{"--servers", "-3"}, "--servers -3"},
		{"too many servers", nil, []string{"--servers", "100"}, "--servers 100"},
		{"reserved space not a size", nil, []string{"--reserved-space", "lots"}, "not a size"},
		{"reserved space with a bad unit", nil, []string{"--reserved-space", "10Q"}, "not a size"},
		{"reserved space negative", nil, []string{"--reserved-space", "-1G"}, "not a size"},
		{"reserved space empty number", nil, []string{"--reserved-space", "G"}, "not a size"},
		{"not a number", nil, []string{"--servers", "many"}, "many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "grid")
			if c.setup != nil {
				c.setup(dir)
			}
			before := listing(dir)
			var out, errb bytes.Buffer
			args := append(append([]string{"lafs", "grid", "up"}, c.args...), dir)
			code := Run(context.Background(), args, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, func(string) string { return "" })
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), c.want) {
				t.Fatalf("stderr %q, want %q in it", errb.String(), c.want)
			}
			if after := listing(dir); after != before {
				t.Fatalf("the directory changed: %q -> %q", before, after)
			}
		})
	}
}

// listing names everything under dir (or says what dir is not).
func listing(dir string) string {
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			names = append(names, "!"+err.Error())
			return nil
		}
		names = append(names, p)
		return nil
	})
	return strings.Join(names, "\n")
}
