// Package prefs reads the lafs binary's preferences for people:
// $XDG_CONFIG_HOME/lafs/config.toml (default ~/.config/lafs/config.toml),
// overridden by LAFS_* environment variables, which command-line flags
// override in turn. It holds no Tahoe configuration: that is the node
// directory's (pkg/nodedir).
package prefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Prefs are the preferences a person can set.
type Prefs struct {
	// NodeDirectory is the node directory lafs uses (default ~/.tahoe).
	NodeDirectory string `toml:"node_directory"`
	// Progress turns progress bars on terminals on or off (default on).
	Progress *bool `toml:"progress"`
	// Output is the default output style: "table" or "json".
	Output string `toml:"output"`
	// File is where the preferences were read from ("" when none).
	File string `toml:"-"`
	// NodeDirSource names where NodeDirectory came from when not File
	// ("LAFS_NODE_DIRECTORY").
	NodeDirSource string `toml:"-"`
	// OutputSource names where Output came from ("LAFS_OUTPUT" or File).
	OutputSource string `toml:"-"`
}

// ShowProgress reports whether progress bars are wanted.
func (p Prefs) ShowProgress() bool { return p.Progress == nil || *p.Progress }

// Path returns the preferences file's location for the given environment.
func Path(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "lafs", "config.toml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "lafs", "config.toml")
	}
	return ""
}

// Load reads the preferences file (a missing file is no preferences) and
// applies LAFS_NODE_DIRECTORY, LAFS_PROGRESS and LAFS_OUTPUT on top.
func Load(getenv func(string) string) (Prefs, error) {
	var p Prefs
	if path := Path(getenv); path != "" {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return p, fmt.Errorf("reading preferences: %w", err)
		default:
			if p, err = Parse(string(data), path); err != nil {
				return p, err
			}
		}
	}
	if v := getenv("LAFS_NODE_DIRECTORY"); v != "" {
		p.NodeDirectory, p.NodeDirSource = v, "LAFS_NODE_DIRECTORY"
	}
	if v := getenv("LAFS_PROGRESS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, fmt.Errorf("LAFS_PROGRESS=%q: want true or false", v)
		}
		p.Progress = &b
	}
	if p.Output != "" {
		p.OutputSource = p.File
	}
	if v := getenv("LAFS_OUTPUT"); v != "" {
		p.Output, p.OutputSource = v, "LAFS_OUTPUT"
	}
	if err := p.validate(p.OutputSource); err != nil {
		return p, err
	}
	return p, nil
}

// Parse reads preferences from TOML text; file names the source in errors,
// which give its line: an unknown key, a wrong type, bad TOML.
func Parse(text, file string) (Prefs, error) {
	p := Prefs{File: file}
	md, err := toml.Decode(text, &p)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return p, fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		if m := decodeErrLine.FindStringSubmatch(err.Error()); m != nil {
			return p, fmt.Errorf("%s:%s: %s", file, m[1], m[2])
		}
		return p, fmt.Errorf("%s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return p, fmt.Errorf("%s:%d: unknown key %q (known: node_directory, progress, output)", file, lineOfKey(text, und[0]), key)
	}
	if err := p.validate(file); err != nil {
		return p, err
	}
	return p, nil
}

func (p Prefs) validate(source string) error {
	switch p.Output {
	case "", "table", "json":
		return nil
	}
	return fmt.Errorf("%s: output = %q: want \"table\" or \"json\"", source, p.Output)
}

// decodeErrLine picks the line out of the TOML library's type errors
// ("toml: line 2 (last key \"progress\"): incompatible types: ...").
var decodeErrLine = regexp.MustCompile(`^toml: line (\d+)(?: \([^)]*\))?: (.*)$`)

// lineOfKey finds the line that defines key's last part (a best effort:
// the TOML library does not report key positions).
func lineOfKey(text string, key toml.Key) int {
	last := regexp.QuoteMeta(key[len(key)-1])
	re := regexp.MustCompile(`^\s*("?)` + last + `("?)\s*=`)
	for i, line := range strings.Split(text, "\n") {
		if re.MatchString(line) {
			return i + 1
		}
	}
	return 0
}
