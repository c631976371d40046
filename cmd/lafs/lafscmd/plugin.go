package lafscmd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/urfave/cli/v2"
)

// pluginPrefix is the prefix of a plugin's executable: "lafs hello" runs
// lafs-hello from PATH (as git and gh run theirs).
const pluginPrefix = "lafs-"

// runPlugin runs lafs-NAME when args name a command NAME that is not built
// in and lafs-NAME is on PATH. The plugin gets the rest of the arguments,
// lafs's streams, and in its environment LAFS_NODE_DIRECTORY (the node
// directory lafs would use, absolute), LAFS_OUTPUT ("json" or "table") and
// LAFS_QUIET ("1" with -q). ok is false when args name no plugin.
func runPlugin(ctx context.Context, app *cli.App, f *command.Factory, args []string, getenv func(string) string) (code int, ok bool) {
	// The global flags come first; the first other word is the command.
	i := 1
	var globals []string
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			break
		}
		globals = append(globals, a)
		if (a == "-d" || a == "--node-directory") && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	if i >= len(args) || args[i] == "--" {
		return 0, false
	}
	name := args[i]
	for _, c := range app.Commands {
		if c.HasName(name) {
			return 0, false
		}
	}
	if name == "help" || strings.ContainsAny(name, `/\`) {
		return 0, false
	}
	path, err := lookPath(getenv("PATH"), pluginPrefix+name)
	if err != nil {
		return 0, false
	}
	// Let the global flags fill the factory.
	sub := &cli.App{Name: "lafs", Flags: globalFlags(f), HideHelp: true, HideVersion: true, Action: func(*cli.Context) error { return nil },
		Writer: f.IO.Err, ErrWriter: f.IO.Err}
	if err := sub.Run(append([]string{"lafs"}, globals...)); err != nil {
		command.Report(f.IO.Err, "lafs", err)
		return command.ExitUsage, true
	}
	env := os.Environ()
	if dir, err := f.NodeDir(); err == nil {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		env = append(env, "LAFS_NODE_DIRECTORY="+dir)
	}
	out := "table"
	if wantsJSON(f, args) || f.JSONOutput {
		out = "json"
	}
	env = append(env, "LAFS_OUTPUT="+out)
	if f.IO.Quiet {
		env = append(env, "LAFS_QUIET=1")
	}
	cmd := exec.CommandContext(ctx, path, args[i+1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = f.IO.In, f.IO.Out, f.IO.Err, env
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, true
	case ctx.Err() != nil:
		f.IO.Err.Write([]byte("lafs: interrupted\n"))
		return command.ExitInterrupted, true
	case errors.As(err, &ee):
		return ee.ExitCode(), true
	}
	command.Report(f.IO.Err, "lafs", err)
	return command.ExitError, true
}

// lookPath finds an executable file named name in the directories of
// path (a PATH value).
func lookPath(path, name string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// installedPlugins lists the plugin names (NAME of lafs-NAME) on path.
func installedPlugins(path string) []string {
	seen := map[string]bool{}
	var out []string
	for _, dir := range filepath.SplitList(path) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			name, ok := strings.CutPrefix(e.Name(), pluginPrefix)
			if !ok || name == "" || seen[name] {
				continue
			}
			if _, err := lookPath(dir, e.Name()); err == nil {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}
