package command

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafs/lafs/internal/prefs"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
)

// closeCounter is a store that only counts Close calls (every other
// method is the nil interface's, and is never called here).
type closeCounter struct {
	filestore.Store
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestFactoryOpensOnceAndCloses(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "private"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte("[node]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "aliases"), []byte("home: URI:DIR2:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	store := &closeCounter{}
	opens := 0
	f := &Factory{
		IO:          &IO{Err: &errb},
		Prog:        "tahoe",
		NodeDirFlag: dir,
		OpenStore: func(n *nodedir.Node, o lafs.Options) (filestore.Store, lafs.Mode, error) {
			opens++
			o.Warn("server 3 left out")
			return store, lafs.ModeLocal, nil
		},
	}
	for i := 0; i < 3; i++ {
		if s, err := f.Store(); err != nil || s != store {
			t.Fatalf("Store: %v %v", s, err)
		}
	}
	a, err := f.Aliases()
	if err != nil || a["home"] == "" {
		t.Fatalf("aliases %v %v", a, err)
	}
	if opens != 1 || f.Mode() != lafs.ModeLocal {
		t.Fatalf("opened %d times, mode %q", opens, f.Mode())
	}
	if errb.String() != "tahoe: warning: server 3 left out\n" {
		t.Fatalf("warning %q", errb.String())
	}
	f.Close()
	f.Close()
	if store.closed != 1 {
		t.Fatalf("closed %d times", store.closed)
	}
}

func TestFactoryNodeDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cases := []struct {
		name  string
		flag  string
		prefs string
		want  string
	}{
		{"default", "", "", filepath.Join(home, ".tahoe")},
		{"preferences", "", "/p/node", "/p/node"},
		{"flag wins", "/f/node", "/p/node", "/f/node"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &Factory{IO: &IO{}, NodeDirFlag: tc.flag, LoadPrefs: func() (prefs.Prefs, error) {
				return prefs.Prefs{NodeDirectory: tc.prefs}, nil
			}}
			got, err := f.NodeDir()
			if err != nil || got != tc.want {
				t.Fatalf("%q %v, want %q", got, err, tc.want)
			}
		})
	}
}

// TestFactoryCreatesOnlyTheDefault: only the default ~/.tahoe is made on
// first use; a node directory named by -d, LAFS_NODE_DIRECTORY or the
// preferences that does not exist is an error with a hint (B7), and a
// leading ~ is the home directory (B8).
func TestFactoryCreatesOnlyTheDefault(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	create := func(n *int) func(string) error {
		return func(string) error { *n++; return errors.New("made nothing") }
	}
	cases := []struct {
		name        string
		flag, prefs string
		source      string // prefs.NodeDirSource
		wantCreate  int
		wantErr     string
	}{
		{name: "default is created", wantCreate: 1, wantErr: "made nothing"},
		{name: "-d is not", flag: filepath.Join(home, "typo"), wantErr: "(from --node-directory) does not exist"},
		{name: "environment is not", prefs: "~/envdir", source: "LAFS_NODE_DIRECTORY", wantErr: home + "/envdir (from LAFS_NODE_DIRECTORY) does not exist"},
		{name: "config is not", prefs: "~/cfgdir", wantErr: home + "/cfgdir (from node_directory in cfg.toml) does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			f := &Factory{IO: &IO{}, NodeDirFlag: tc.flag, CreateNode: create(&n), LoadPrefs: func() (prefs.Prefs, error) {
				return prefs.Prefs{NodeDirectory: tc.prefs, NodeDirSource: tc.source, File: "cfg.toml"}, nil
			}}
			_, err := f.Node()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || n != tc.wantCreate {
				t.Fatalf("err %v, created %d", err, n)
			}
			var ce *Error
			if tc.wantCreate == 0 && (!errors.As(err, &ce) || !strings.Contains(ce.Hint, "lafs init")) {
				t.Fatalf("no hint: %v", err)
			}
		})
	}
	// Without CreateNode a missing node directory is an error with a hint.
	dir := filepath.Join(home, "node")
	f := &Factory{IO: &IO{}, NodeDirFlag: dir, NodeHint: "create one at %s"}
	_, err := f.Node()
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Hint, dir) {
		t.Fatalf("missing node directory: %v", err)
	}
}
