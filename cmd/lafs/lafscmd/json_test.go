package lafscmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/command"
)

// jsonCase is one command whose --json output is pinned by a golden file
// (testdata/json/NAME.golden, caps and times masked).
type jsonCase struct {
	name string
	args []string
	code int
}

// jsonCases runs every reporting command with --json, in order, on one
// node (later ones use what earlier ones made).
var jsonCases = []jsonCase{
	{"put", []string{"put", "--json", "hi.txt", "home:hi.txt"}, 0},
	{"put-dry-run", []string{"put", "hi.txt", "--dry-run", "--json"}, 0},
	{"mkdir", []string{"mkdir", "--json", "home:sub"}, 0},
	{"ls", []string{"ls", "--json", "home:"}, 0},
	{"get", []string{"get", "--json", "home:hi.txt", "got.txt"}, 0},
	{"cp", []string{"cp", "--json", "hi.txt", "home:sub/"}, 0},
	{"ls-R", []string{"--json", "ls", "-R", "home:"}, 0},
	{"du", []string{"du", "home:", "--json"}, 0},
	{"cp-update", []string{"cp", "-r", "--update", "--json", "hi.txt", "home:sub/"}, 0},
	{"mv", []string{"mv", "--json", "home:sub/hi.txt", "home:moved.txt"}, 0},
	{"rm", []string{"rm", "--json", "home:moved.txt"}, 0},
	{"share", []string{"share", "--json", "home:sub"}, 0},
	{"attenuate", []string{"attenuate", "--json", "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"}, 0},
	{"alias-add", []string{"alias", "add", "--json", "other"}, 0},
	{"alias-ls", []string{"alias", "ls", "--json"}, 0},
	{"alias-rm", []string{"alias", "rm", "other", "--json"}, 0},
	{"status", []string{"status", "--json"}, 0},
	{"backup", []string{"backup", ".", "home:bk", "--json"}, 0},
	{"backup-again", []string{"backup", "--json", ".", "home:bk"}, 0},
	{"error-not-found", []string{"ls", "home:nope", "--json"}, 1},
	{"error-usage", []string{"mv", "--json", "home:a"}, 2},
	{"error-exists", []string{"put", "hi.txt", "home:hi.txt", "--json"}, 1},
}

func TestJSONGolden(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	n.file("hi.txt", "hi there")
	for _, tc := range jsonCases {
		out, errs, code := n.run(tc.args...)
		if code != tc.code {
			t.Fatalf("%s: exit %d, want %d\n%s", tc.name, code, tc.code, errs)
		}
		got := out
		if tc.code != 0 {
			got = errs
		}
		got = maskJSON(got, n)
		golden(t, filepath.Join(wd, "testdata", "json", tc.name+".golden"), got)
	}
}

// maskJSON masks what differs from run to run: caps, times, temporary
// directories, versions and ports.
func maskJSON(s string, n *testNode) string {
	s = strings.ReplaceAll(s, n.dir, "NODE")
	s = strings.ReplaceAll(s, n.cwd, "CWD")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\d_\d\d:\d\d:\d\dZ`).ReplaceAllString(s, "TIME")
	s = regexp.MustCompile(`"elapsed":[0-9.e-]+`).ReplaceAllString(s, `"elapsed":N`)
	s = maskRE(s)
	s = regexp.MustCompile(`"id":"v0-[a-z0-9]+"`).ReplaceAllString(s, `"id":"ID"`)
	return regexp.MustCompile(`"available_space":\d+`).ReplaceAllString(s, `"available_space":N`)
}

// golden compares got with the file at path (UPDATE_GOLDEN=1 rewrites it).
func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 once)", err)
	}
	if got != string(want) {
		t.Fatalf("%s:\n%s\nwant:\n%s", filepath.Base(path), got, want)
	}
}

// vocabulary reads the field names of docs/json.md's table: the
// backquoted names in its first column.
func vocabulary(t *testing.T) map[string]bool {
	b, err := os.ReadFile("../../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cols[1], -1) {
			v[m[1]] = true
		}
	}
	return v
}

// keys adds every object key in v (at any depth, outside "metadata",
// which is the grid's own) to into.
func keys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			if k != "metadata" {
				keys(e, into)
			}
		}
	case []any:
		for _, e := range x {
			keys(e, into)
		}
	}
}

// TestJSONVocabulary: every field any command prints as JSON (and the
// version report's) is documented in docs/json.md, each line is one JSON
// value, and errors are JSON when --json is on.
func TestJSONVocabulary(t *testing.T) {
	vocab := vocabulary(t)
	n := newTestNode(t)
	n.file("hi.txt", "hi there")
	seen := map[string]bool{}
	runs := append(append([]jsonCase{}, jsonCases...), jsonCase{"version", []string{"version", "--json"}, 0})
	for _, tc := range runs {
		out, errs, _ := n.run(tc.args...)
		for _, text := range []string{out, errs} {
			for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
				if line == "" {
					continue
				}
				var v any
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("%s: a line that is not one JSON value: %q", tc.name, line)
				}
				keys(v, seen)
			}
		}
	}
	for k := range seen {
		if !vocab[k] {
			t.Errorf("field %q is printed but not in docs/json.md", k)
		}
	}
}

// TestOutputPreference: LAFS_OUTPUT=json turns JSON on for every command,
// errors included.
func TestOutputPreference(t *testing.T) {
	n := newTestNode(t)
	env := func(k string) string {
		if k == "LAFS_OUTPUT" {
			return "json"
		}
		return ""
	}
	for _, args := range [][]string{{"mkdir", "home:d"}, {"ls", "home:"}, {"alias", "ls"}, {"status"}, {"version"}, {"share", "home:"}} {
		var out, errb bytes.Buffer
		stdio := &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}
		if code := Run(context.Background(), append([]string{"lafs", "-d", n.dir}, args...), stdio, env); code != 0 || !strings.HasPrefix(out.String(), "{") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"lafs", "-d", n.dir, "ls", "home:nope"}, &command.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, env)
	if code != 1 || !strings.HasPrefix(errb.String(), `{"error":{"code":"not_found"`) {
		t.Errorf("error with LAFS_OUTPUT=json: exit %d %q", code, errb.String())
	}
}
