package tahoecmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
)

// TestLsJSONGolden: direct-mode `ls --json` writes the bytes a Tahoe node
// writes for t=json (json.dumps(indent=1), its key order, ensure_ascii),
// checked by hand against Tahoe 1.20's node for the same directory.
func TestLsJSONGolden(t *testing.T) {
	dir, err := caps.Parse("URI:DIR2:zuajyllev7omhaizft6uber3aq:5zjzh5e45mnlsa54sctpa6tfpfrdnbmug32wult57zy5gt3bzvya")
	if err != nil {
		t.Fatal(err)
	}
	md := []byte(`{"tahoe":{"linkcrtime":1796119776.9741194,"linkmotime":1796119776.9741194}}`)
	entries := []dirnode.Entry{
		{Name: "small.txt", ROCap: "URI:LIT:nbuqu", Metadata: md},
		{Name: "f.txt", ROCap: "URI:CHK:n3ff6pyzpidznxgaiytehbdy2i:6qburt3adimzmdshnvfab3icln7olnculylrzsg7hj3pzhslx2ya:2:4:348894", Metadata: md},
		{Name: "mut", RWCap: "URI:SSK:4yrpajqgkjvfmu2svwcwjl7rsy:lhztmpw7jevil57jwchtpvnb7s7tgje2mqoxy4s4xaatnatsblsq",
			ROCap: "URI:SSK-RO:wpuarqqxuovmshhry7q2hasg5m:lhztmpw7jevil57jwchtpvnb7s7tgje2mqoxy4s4xaatnatsblsq", Metadata: md},
		{Name: "d2", RWCap: "URI:DIR2:taqcatfkmda5iv2qznzbdgmzf4:highw32zdthi3w53bz4ny5k66pa6zjktwhdyyyecfalzezuzetjq",
			ROCap: "URI:DIR2-RO:wpq2i3uedxev63pexehqoe4tsq:5zjzh5e45mnlsa54sctpa6tfpfrdnbmug32wult57zy5gt3bzvya", Metadata: md},
		{Name: "caf\u00e9 \"\U0001F600\"", ROCap: "URI:LIT:nbuqu", Metadata: []byte(`{}`)},
	}
	golden(t, "ls-json-dir", pyDumps(dirJSON(dir, entries))+"\n\n")
	f, _ := caps.Parse(entries[1].ROCap)
	golden(t, "ls-json-file", pyDumps(fileJSON(f, md, 348894))+"\n\n")
	lit, _ := caps.Parse("URI:LIT:nbuqu")
	golden(t, "ls-json-litcap", pyDumps(fileJSON(lit, nil, 3))+"\n\n")
}

// golden compares got with testdata/NAME.golden (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestPlumbingMessages: what Tahoe's commands print on stdout and stderr
// (tahoe_get.py + cli.py, tahoe_unlink.py, tahoe_put.py, tahoe_ls.py).
func TestPlumbingMessages(t *testing.T) {
	n := newTestNode(t)
	src := n.file("a.txt", strings.Repeat("a", 100))
	out := filepath.Join(t.TempDir(), "out.txt")
	for _, c := range []struct {
		name           string
		args           []string
		stdout, stderr string // regexps
		code           int
	}{
		{"put unlinked", []string{"put", src}, `^URI:CHK:\S+\n$`, `^200 OK\n$`, 0},
		{"put new link", []string{"put", src, "home:a.txt"}, `^URI:CHK:\S+\n$`, `^201 Created\n$`, 0},
		{"put replacing", []string{"put", src, "home:a.txt"}, `^URI:CHK:\S+\n$`, `^200 OK\n$`, 0},
		{"put mutable unlinked", []string{"put", "--mutable", src}, `^URI:SSK:\S+\n$`, `^200 OK\n$`, 0},
		{"put mutable linked", []string{"put", "--mutable", src, "home:m"}, `^URI:SSK:\S+\n$`, `^201 Created\n$`, 0},
		{"get to file", []string{"get", "home:a.txt", out}, `^$`, `^home:a.txt retrieved and written to ` + regexp.QuoteMeta(out) + `\n$`, 0},
		{"get to stdout", []string{"get", "home:a.txt"}, `^a{100}$`, `^$`, 0},
		{"ls -l file", []string{"ls", "-l", "home:a.txt"}, `^-r-- 100 \w{3} \d\d \d\d:\d\d a.txt\n$`, `^$`, 0},
		{"ls -l file cap", []string{"ls", "-l", "URI:LIT:mfqwc"}, `^-r-- 3 -\n$`, `^$`, 0},
		{"ls missing", []string{"ls", "home:nope"}, `^$`, `^No such file or directory\n$`, 2},
		{"unlink", []string{"unlink", "home:a.txt"}, `^200 OK\n$`, `^$`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := n.run(append([]string{"-d", n.dir}, c.args...)...)
			if code != c.code || !regexp.MustCompile(c.stdout).MatchString(stdout) || !regexp.MustCompile(c.stderr).MatchString(stderr) {
				t.Fatalf("exit %d (want %d)\nstdout %q (want %s)\nstderr %q (want %s)", code, c.code, stdout, c.stdout, stderr, c.stderr)
			}
		})
	}
}

// TestShellEscape: names as GNU ls shows them on a terminal.
func TestShellEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt":       "plain.txt",
		"with space":      "with space",
		"caf\u00e9":       "caf\u00e9",
		"a\nb":            `'a'$'\n''b'`,
		"\x1b[31mred":     `$'\033''[31mred'`,
		"it's\x07":        `'it'\''s'$'\007'`,
		"bad\xffutf8":     `'bad'$'\377''utf8'`,
		"tab\there":       `'tab'$'\t''here'`,
		"\u202eRTL trick": `$'\342\200\256''RTL trick'`,
	} {
		if got := shellEscape(in); got != want {
			t.Errorf("shellEscape(%q) = %s, want %s", in, got, want)
		}
	}
}
