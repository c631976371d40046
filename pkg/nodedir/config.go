// Package nodedir reads and writes a Tahoe-LAFS node directory: tahoe.cfg,
// the private/ secrets (convergence, lease secret), private/servers.yaml
// (static storage servers) and node.url. Both binaries and the storage node
// use it, so a directory made by Tahoe works here and the other way round.
//
// It does not talk to servers or encode files; it only turns files on disk
// into typed configuration.
package nodedir

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Config is a parsed tahoe.cfg: INI sections of key = value pairs, read the
// way Python's configparser reads them for Tahoe (keys are case-insensitive,
// '=' or ':' separates, whole-line comments start with '#' or ';',
// indented lines continue the previous value).
type Config struct {
	sections map[string]map[string]entry
	order    []string
}

type entry struct {
	value string
	line  int
}

// ConfigError names the file and line of a problem in tahoe.cfg.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ParseConfig reads tahoe.cfg text; name is used in error messages.
func ParseConfig(r io.Reader, name string) (*Config, error) {
	c := &Config{sections: map[string]map[string]entry{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var section, lastKey string
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			if trimmed == "" {
				lastKey = ""
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if lastKey == "" {
				return nil, &ConfigError{name, lineNo, "indented line continues no value"}
			}
			e := c.sections[section][lastKey]
			e.value += "\n" + trimmed
			c.sections[section][lastKey] = e
			continue
		}
		if trimmed[0] == '[' {
			if !strings.HasSuffix(trimmed, "]") {
				return nil, &ConfigError{name, lineNo, fmt.Sprintf("malformed section header %q", trimmed)}
			}
			section = strings.TrimSpace(trimmed[1 : len(trimmed)-1])
			if _, dup := c.sections[section]; dup {
				return nil, &ConfigError{name, lineNo, fmt.Sprintf("section [%s] appears twice", section)}
			}
			c.sections[section] = map[string]entry{}
			c.order = append(c.order, section)
			lastKey = ""
			continue
		}
		if section == "" {
			return nil, &ConfigError{name, lineNo, "a setting before any [section] header"}
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, &ConfigError{name, lineNo, fmt.Sprintf("expected 'key = value', got %q", trimmed)}
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if _, dup := c.sections[section][key]; dup {
			return nil, &ConfigError{name, lineNo, fmt.Sprintf("[%s] %s is set twice", section, key)}
		}
		c.sections[section][key] = entry{value: strings.TrimSpace(trimmed[i+1:]), line: lineNo}
		lastKey = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return c, nil
}

// Get returns the value of key in section and whether it is set.
func (c *Config) Get(section, key string) (string, bool) {
	if c == nil {
		return "", false
	}
	e, ok := c.sections[section][strings.ToLower(key)]
	return e.value, ok
}

// Line returns the line a setting was read from, 0 when unset.
func (c *Config) Line(section, key string) int {
	if c == nil {
		return 0
	}
	return c.sections[section][strings.ToLower(key)].line
}

// String returns key's value or def when it is not set.
func (c *Config) String(section, key, def string) string {
	if v, ok := c.Get(section, key); ok {
		return v
	}
	return def
}

// Int returns key's value as an integer, def when unset.
func (c *Config) Int(section, key string, def int) (int, error) {
	v, ok := c.Get(section, key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("[%s] %s = %q (line %d): not an integer", section, key, v, c.Line(section, key))
	}
	return n, nil
}

// Bool returns key's value as configparser reads booleans (1/yes/true/on,
// 0/no/false/off, any case), def when unset.
func (c *Config) Bool(section, key string, def bool) (bool, error) {
	v, ok := c.Get(section, key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("[%s] %s = %q (line %d): not a boolean", section, key, v, c.Line(section, key))
}

// Sections lists the section names in file order.
func (c *Config) Sections() []string { return append([]string(nil), c.order...) }

// Keys lists the keys of a section, sorted.
func (c *Config) Keys(section string) []string {
	var ks []string
	for k := range c.sections[section] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
