package nodedir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAliases(t *testing.T) {
	dir := t.TempDir()
	n, _ := Open(dir)
	if err := n.AddAlias("work", "URI:DIR2:a:b"); err != nil {
		t.Fatal(err)
	}
	if err := n.AddAlias("work", "URI:DIR2:c:d"); !errors.Is(err, ErrAliasExists) {
		t.Fatalf("duplicate alias: %v", err)
	}
	for _, bad := range []string{"a:b", "a b", ""} {
		if err := n.AddAlias(bad, "URI:DIR2:x:y"); err == nil {
			t.Errorf("alias %q accepted", bad)
		}
	}
	os.WriteFile(filepath.Join(dir, "private", "aliases"), []byte("# comment\nwork: URI:DIR2:a:b\nno-newline: URI:DIR2:e:f"), 0o600)
	if err := n.AddAlias("tahoe", "URI:DIR2:g:h"); err != nil {
		t.Fatal(err)
	}
	a, err := n.Aliases()
	if err != nil || len(a) != 3 || a["no-newline"] != "URI:DIR2:e:f" || a["tahoe"] != "URI:DIR2:g:h" {
		t.Fatalf("aliases %v %v", a, err)
	}
	tests := []struct{ arg, root, path string }{
		{"work:sub/file", "URI:DIR2:a:b", "sub/file"},
		{"work:", "URI:DIR2:a:b", ""},
		{"file.txt", "URI:DIR2:g:h", "file.txt"},
		{"dir/name:7", "URI:DIR2:g:h", "dir/name:7"},
		{"URI:DIR2:x:y", "URI:DIR2:x:y", ""},
		{"URI:DIR2:x:y/sub", "URI:DIR2:x:y", "sub"},
		{"URI:DIR2:x:y:./sub", "URI:DIR2:x:y", "sub"},
	}
	for _, tt := range tests {
		root, path, err := SplitPath(a, tt.arg)
		if err != nil || root != tt.root || path != tt.path {
			t.Errorf("SplitPath(%q) = %q %q %v", tt.arg, root, path, err)
		}
	}
	var ue *UnknownAliasError
	if _, _, err := SplitPath(a, "nope:x"); !errors.As(err, &ue) {
		t.Fatalf("unknown alias: %v", err)
	}
}

// TestAliasNamesTheFileCannotHold: a name with a line break, a tab or
// another control character would corrupt private/aliases; it is refused
// and nothing is written.
func TestAliasNamesTheFileCannotHold(t *testing.T) {
	dir := t.TempDir()
	n, _ := Open(dir)
	for _, bad := range []string{"a\nb", "a\rb", "a\tb", "new\n", "x\x00y", "a\u2028b", "a\u0085b", "#hidden", "bad\xffutf8"} {
		if err := n.AddAlias(bad, "URI:DIR2:x:y"); err == nil {
			t.Errorf("alias %q accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "private", "aliases")); err == nil {
		t.Fatal("a refused alias wrote the aliases file")
	}
	for _, good := range []string{"work", "ünïcode", "a-b_c.d"} {
		if err := CheckAliasName(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}

// TestDamagedAliasesFile: the bad lines are named (file and line) and the
// good ones still served.
func TestDamagedAliasesFile(t *testing.T) {
	dir := t.TempDir()
	n, _ := Open(dir)
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	text := "work: URI:DIR2:a:b\nthis line has no colon\n: URI:DIR2:c:d\nempty:\n  # indented comment\nhome: URI:DIR2:e:f\n"
	os.WriteFile(filepath.Join(dir, "private", "aliases"), []byte(text), 0o600)
	a, bad, err := n.ReadAliases()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || a["work"] != "URI:DIR2:a:b" || a["home"] != "URI:DIR2:e:f" {
		t.Fatalf("aliases %v", a)
	}
	var lines []int
	for _, e := range bad {
		var le *AliasLineError
		if !errors.As(e, &le) || le.File != filepath.Join(dir, "private", "aliases") {
			t.Fatalf("problem %v", e)
		}
		lines = append(lines, le.Line)
	}
	if len(lines) != 3 || lines[0] != 2 || lines[1] != 3 || lines[2] != 4 {
		t.Fatalf("bad lines %v (%v)", lines, bad)
	}
	if got := bad[0].Error(); got != filepath.Join(dir, "private", "aliases")+":2: expected 'name: cap'; the line is ignored" {
		t.Fatalf("message %q", got)
	}
	// Aliases serves the good ones with no error.
	if a, err := n.Aliases(); err != nil || len(a) != 2 {
		t.Fatalf("Aliases %v %v", a, err)
	}
}

func FuzzParseAliases(f *testing.F) {
	f.Add([]byte("work: URI:DIR2:a:b\n# c\nbad\n: x\n"))
	f.Add([]byte("a:\r\nb: c\x00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := map[string]string{}
		bad := parseAliases(out, "aliases", b)
		for name, c := range out {
			if name == "" || c == "" || strings.ContainsAny(name, ":\n") {
				t.Fatalf("served %q: %q", name, c)
			}
		}
		for _, e := range bad {
			if !strings.HasPrefix(e.Error(), "aliases:") {
				t.Fatalf("problem without its line: %v", e)
			}
		}
	})
}
