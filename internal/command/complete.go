package command

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// CompleteCommand is the hidden first argument that turns a run into a
// completion request: "prog __complete WORD... CUR" prints the candidates
// for CUR, one a line, given the words before it. It never runs a
// command's action, whatever the words are (the shell scripts call only
// this), so a TAB cannot create, upload or remove anything.
const CompleteCommand = "__complete"

// Completer offers candidates for a positional argument that starts with
// cur (aliases and grid paths, for lafs). It must only read.
type Completer func(cur string) []string

// Complete prints to w the candidates for the last of words (the word
// being completed, possibly "") in app's command tree: subcommand names,
// the current command's flags (and the app's global flags) for a word
// starting with "-", the choices of an ArgsUsage written "a|b|c", or what
// arg offers for other positional words. It never runs an action.
func Complete(w io.Writer, app *cli.App, words []string, arg Completer) error {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	var chain []*cli.Command
	cmds, flags := app.Commands, app.Flags
	var leaf *cli.Command
	positional := 0
	for i := 0; i < len(before); i++ {
		wd := before[i]
		if wd == "--" {
			positional += len(before) - i - 1
			break
		}
		if strings.HasPrefix(wd, "-") && len(wd) > 1 {
			if fl := findFlag(append(append([]cli.Flag{}, flags...), app.Flags...), wd); fl != nil && takesValue(fl) && !strings.Contains(wd, "=") {
				i++ // its value
				if i == len(before) {
					return nil // completing a flag's value: the shell's files
				}
			}
			continue
		}
		if leaf == nil || len(leaf.Subcommands) > 0 {
			if c := findCommand(cmds, wd); c != nil {
				leaf, cmds, flags = c, c.Subcommands, c.Flags
				chain = append(chain, c)
				continue
			}
		}
		positional++
	}
	if leaf != nil && leaf.SkipFlagParsing {
		return nil
	}
	// The value of a flag given as the last word before cur.
	if n := len(before); n > 0 && strings.HasPrefix(before[n-1], "-") && !strings.Contains(before[n-1], "=") {
		if fl := findFlag(append(append([]cli.Flag{}, flags...), app.Flags...), before[n-1]); fl != nil && takesValue(fl) {
			return nil
		}
	}
	var out []string
	switch {
	case strings.HasPrefix(cur, "-"):
		all := flags
		if leaf != nil {
			all = append(append([]cli.Flag{}, flags...), app.Flags...)
		}
		for _, fl := range all {
			if vf, ok := fl.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			for _, name := range fl.Names() {
				if name == "help" || name == "h" {
					continue
				}
				dash := "--"
				if len(name) == 1 {
					dash = "-"
				}
				out = append(out, dash+name)
			}
		}
	case leaf == nil || (len(leaf.Subcommands) > 0 && positional == 0):
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			out = append(out, c.Name)
		}
	default:
		if m := choicesRe.FindStringSubmatch(leaf.ArgsUsage); m != nil && positional == 0 {
			out = strings.Split(m[0], "|")
		} else if arg != nil {
			out = arg(cur)
		}
	}
	sort.Strings(out)
	out = slices.Compact(out)
	for _, c := range out {
		if strings.HasPrefix(c, cur) {
			if _, err := fmt.Fprintln(w, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// choicesRe matches an ArgsUsage that is a list of literal choices.
var choicesRe = regexp.MustCompile(`^[a-z]+(\|[a-z]+)+$`)

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// findFlag returns the flag among flags that word ("-x", "--name",
// "--name=v") names, or nil.
func findFlag(flags []cli.Flag, word string) cli.Flag {
	name := strings.TrimLeft(word, "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	for _, fl := range flags {
		for _, n := range fl.Names() {
			if n == name {
				return fl
			}
		}
	}
	return nil
}

func takesValue(fl cli.Flag) bool {
	if d, ok := fl.(cli.DocGenerationFlag); ok {
		return d.TakesValue()
	}
	return false
}

// CompletionShells are the shells CompletionScript writes for.
var CompletionShells = []string{"bash", "zsh", "fish"}

// CompletionScript returns the completion script for prog in the given
// shell. Every script asks the binary for candidates only through its
// hidden __complete entry point, passing the words typed so far; none
// appends anything to a real command line.
func CompletionScript(prog, shell string) (string, error) {
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(prog) + "_complete"
	switch shell {
	case "bash":
		return fmt.Sprintf(`# bash completion for %[1]s: candidates come from '%[1]s __complete WORDS...',
# which only lists names and never runs a command.
%[2]s() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\n'
  COMPREPLY=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:$COMP_CWORD}" 2>/dev/null))
  if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *[:/] ]]; then
    compopt -o nospace 2>/dev/null
  fi
}
complete -o bashdefault -o default -F %[2]s %[1]s
`, prog, fn), nil
	case "zsh":
		return fmt.Sprintf(`#compdef %[1]s
# zsh completion for %[1]s: candidates come from '%[1]s __complete WORDS...',
# which only lists names and never runs a command.
%[2]s() {
  local -a candidates
  candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ -n "${candidates[1]}" ]]; then
    compadd -S '' -Q -- "${candidates[@]}"
  else
    _files
  fi
}
compdef %[2]s %[1]s
`, prog, fn), nil
	case "fish":
		return fmt.Sprintf(`# fish completion for %[1]s: candidates come from '%[1]s __complete WORDS...',
# which only lists names and never runs a command.
function %[2]s
    set -l words (commandline -opc)
    set -e words[1]
    %[1]s __complete $words (commandline -ct) 2>/dev/null
end
complete -c %[1]s -a '(%[2]s)'
`, prog, fn), nil
	}
	return "", Usagef("unknown shell %q: want bash, zsh or fish", shell)
}
