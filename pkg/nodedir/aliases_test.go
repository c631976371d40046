package nodedir

import (
	"errors"
	"os"
	"path/filepath"
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
