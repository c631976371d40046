package prefs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
		check               func(Prefs) bool
	}{
		{"empty", "", "", func(p Prefs) bool { return p.ShowProgress() && p.Output == "" }},
		{"all keys", "node_directory = \"/n\"\nprogress = false\noutput = \"json\"\n", "",
			func(p Prefs) bool { return p.NodeDirectory == "/n" && !p.ShowProgress() && p.Output == "json" }},
		{"unknown key names its line", "output = \"json\"\n\ncolour = true\n", "config.toml:3: unknown key \"colour\"", nil},
		{"type error names its line", "\nprogress = \"yes\"\n", "config.toml:2:", nil},
		{"bad toml", "output = \n", "config.toml:1:", nil},
		{"bad output value", "output = \"xml\"\n", "want \"table\" or \"json\"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.text, "config.toml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Fatalf("prefs %+v", p)
			}
		})
	}
}

func TestLoadEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lafs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lafs", "config.toml"), []byte("node_directory = \"/from-file\"\nprogress = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_CONFIG_HOME": dir, "LAFS_PROGRESS": "false"}
	p, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if p.NodeDirectory != "/from-file" || p.ShowProgress() {
		t.Fatalf("prefs %+v", p)
	}
	env["LAFS_NODE_DIRECTORY"] = "/from-env"
	if p, _ = Load(func(k string) string { return env[k] }); p.NodeDirectory != "/from-env" {
		t.Fatalf("env did not win: %+v", p)
	}
	env["LAFS_PROGRESS"] = "maybe"
	if _, err := Load(func(k string) string { return env[k] }); err == nil {
		t.Fatal("bad LAFS_PROGRESS accepted")
	}
	// No file at all is fine.
	if _, err := Load(func(k string) string { return map[string]string{"HOME": t.TempDir()}[k] }); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("node_directory = \"/n\"\nprogress = false\noutput = \"json\"\n")
	f.Add("[x]\ny = 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Parse(s, "fuzz.toml")
	})
}
