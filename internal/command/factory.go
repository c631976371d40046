package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/internal/prefs"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Factory hands a command what it works on: the I/O, the preferences, the
// node directory, its aliases and its file store. Each is opened on first
// use and only once (a command that never touches the grid never opens
// it), and Close releases the store at the end of the run. Warnings go to
// IO.Err as "prog: warning: ...". A binary builds one Factory per run and
// sets its fields from the global flags before a command runs; a test
// builds one over buffers and a temporary node directory.
type Factory struct {
	IO *IO
	// Prog is the binary's name, the prefix of warnings.
	Prog string
	// TahoeUsage reports usage errors as Tahoe's CLI does: the command's
	// usage and "prog:  message" on stdout, exit status 1 (tahoe). Without
	// it they are one line on stderr and exit status 2 (lafs).
	TahoeUsage bool
	// NodeDirFlag is -d/--node-directory ("" for the default: the
	// preferences' node_directory, else ~/.tahoe).
	NodeDirFlag string
	// LoadPrefs reads the preferences (lafs); nil means none (tahoe).
	LoadPrefs func() (prefs.Prefs, error)
	// CreateNode, when set, makes the node directory when it does not
	// exist (lafs's first use); nil means a missing one is an error.
	CreateNode func(dir string) error
	// NodeHint is the hint added when the node directory cannot be opened;
	// %s is replaced by its path.
	NodeHint string
	// NoGridHint is the hint added when the node directory has no grid.
	NoGridHint string
	// NodeURL, when set, is the web API to use instead of what the node
	// directory says (Tahoe's -u/--node-url): a gateway.
	NodeURL string
	// DirCap, when set, is the 'tahoe' alias (Tahoe's --dir-cap).
	DirCap string
	// JSONOutput is lafs's global --json.
	JSONOutput bool
	// PermuteFlags accepts flags after arguments (lafs; see Permute).
	PermuteFlags bool
	// Interrupt reports a run stopped by its context (SIGINT) as
	// "prog: interrupted", exit status 130 (lafs).
	Interrupt bool
	// JSONErrors reports errors as one JSON object on stderr (lafs with
	// JSON output on).
	JSONErrors bool
	// Verbose keeps errors whole; without it ShortErrors, when set, may
	// shorten them (lafs -v).
	Verbose bool
	// ShortErrors shortens a long error for people (lafs: unhappiness).
	ShortErrors func(error) error
	// Completer offers positional candidates to __complete (lafs: aliases
	// and grid paths).
	Completer Completer
	// OpenStore opens a node directory's store; lafs.Open when nil (tests
	// may put another store here).
	OpenStore func(*nodedir.Node, lafs.Options) (filestore.Store, lafs.Mode, error)

	prefs     *prefs.Prefs
	dir       string
	dirSource string // what named dir: "" for the default
	node      *nodedir.Node
	aliases   map[string]string
	store     filestore.Store
	mode      lafs.Mode
}

// Warn prints a warning line on stderr.
func (f *Factory) Warn(msg string) { fmt.Fprintf(f.IO.Err, "%s: warning: %s\n", f.Prog, msg) }

// Prefs returns the preferences, read once (zero preferences without
// LoadPrefs).
func (f *Factory) Prefs() (prefs.Prefs, error) {
	if f.prefs == nil {
		var p prefs.Prefs
		if f.LoadPrefs != nil {
			var err error
			if p, err = f.LoadPrefs(); err != nil {
				return p, err
			}
		}
		f.prefs = &p
	}
	return *f.prefs, nil
}

// NodeDir returns the node directory's path: -d, else the preferences'
// node_directory, else ~/.tahoe.
func (f *Factory) NodeDir() (string, error) {
	if f.dir != "" {
		return f.dir, nil
	}
	dir, source := f.NodeDirFlag, "--node-directory"
	if dir == "" {
		p, err := f.Prefs()
		if err != nil {
			return "", err
		}
		dir, source = p.NodeDirectory, "node_directory in "+p.File
		if p.NodeDirSource != "" {
			source = p.NodeDirSource
		}
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no node directory: give --node-directory (%w)", err)
		}
		dir, source = filepath.Join(home, ".tahoe"), ""
	}
	dir, err := ExpandHome(dir)
	if err != nil {
		return "", err
	}
	f.dir, f.dirSource = dir, source
	return dir, nil
}

// ExpandHome expands a leading "~" or "~/" in path to the home directory
// (Tahoe-LAFS expands it in -d too); "~user" is left alone.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expanding ~ in %s: %w", path, err)
	}
	return filepath.Join(home, path[1:]), nil
}

// NodeDirIsDefault reports whether the node directory is the default
// ~/.tahoe (no -d, environment or preference named it).
func (f *Factory) NodeDirIsDefault() bool {
	_, err := f.NodeDir()
	return err == nil && f.dirSource == ""
}

// Node opens the node directory, once. With CreateNode set, a missing
// default node directory is created first.
func (f *Factory) Node() (*nodedir.Node, error) {
	if f.node != nil {
		return f.node, nil
	}
	dir, err := f.NodeDir()
	if err != nil {
		return nil, err
	}
	if f.CreateNode != nil {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if f.dirSource != "" {
				// Only the default is made on first use: a mistyped -d must
				// not quietly become a new, empty grid.
				return nil, &Error{Err: fmt.Errorf("node directory %s (from %s) does not exist", dir, f.dirSource), Code: ExitError, Kind: CodeNoNode,
					Hint: fmt.Sprintf("check the path, or create it with 'lafs init %s'", dir)}
			}
			if err := f.CreateNode(dir); err != nil {
				return nil, err
			}
		}
	}
	n, err := nodedir.Open(dir)
	if err != nil {
		if f.NodeHint != "" {
			return nil, WithHint(err, fmt.Sprintf(f.NodeHint, dir))
		}
		return nil, err
	}
	f.node = n
	return n, nil
}

// Aliases returns the node directory's aliases, read once; damaged lines
// of the aliases file are warned about and skipped.
func (f *Factory) Aliases() (map[string]string, error) {
	if f.aliases != nil {
		return f.aliases, nil
	}
	n, err := f.Node()
	if err != nil {
		return nil, err
	}
	a, bad, err := n.ReadAliases()
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		f.Warn(b.Error())
	}
	if f.DirCap != "" {
		a[nodedir.DefaultAlias] = f.DirCap
	}
	f.aliases = a
	return a, nil
}

// Store opens the node directory's file store, once; Close closes it.
func (f *Factory) Store() (filestore.Store, error) {
	if f.store != nil {
		return f.store, nil
	}
	n, err := f.Node()
	if err != nil {
		return nil, err
	}
	open := f.OpenStore
	if open == nil {
		open = lafs.Open
	}
	s, mode, err := open(n, lafs.Options{Warn: f.Warn, NodeURL: f.NodeURL})
	if err != nil {
		if errors.Is(err, lafs.ErrNoGrid) && f.NoGridHint != "" {
			return nil, WithHint(err, f.NoGridHint)
		}
		return nil, err
	}
	f.store, f.mode = s, mode
	return s, nil
}

// Mode is how the opened store reaches its grid ("" before Store).
func (f *Factory) Mode() lafs.Mode { return f.mode }

// Close closes the store if one was opened. It is safe to call twice.
func (f *Factory) Close() error {
	if f.store == nil {
		return nil
	}
	err := f.store.Close()
	f.store = nil
	return err
}

// NodeDirExists reports whether the node directory exists (without
// creating it).
func (f *Factory) NodeDirExists() bool {
	dir, err := f.NodeDir()
	if err != nil {
		return false
	}
	_, err = os.Stat(dir)
	return err == nil
}
