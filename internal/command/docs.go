package command

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// ManPage renders app's man page (section 1) from its command definitions.
func ManPage(app *cli.App) (string, error) {
	app.Setup()
	return app.ToManWithSection(1)
}

// CheckManPage reports whether the man page at path still matches app's
// command definitions (run 'make man' when it does not).
func CheckManPage(app *cli.App, path string) error {
	want, err := ManPage(app)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run 'make man')", err)
	}
	if string(got) != want {
		return fmt.Errorf("%s is stale: run 'make man' and commit it", path)
	}
	return nil
}

// NewManCommand returns a hidden command that prints the binary's man page;
// `make man` writes its output under man/.
func NewManCommand(stdio *IO) *cli.Command {
	return &cli.Command{
		Name:   "generate-man",
		Usage:  "print the man page in roff",
		Hidden: true,
		Action: func(cCtx *cli.Context) error {
			page, err := ManPage(cCtx.App)
			if err != nil {
				return fmt.Errorf("rendering man page: %w", err)
			}
			_, err = fmt.Fprint(stdio.Out, page)
			return err
		},
	}
}

// NewCompletionCommand returns `completion bash|zsh`, which prints a shell
// script that completes the binary's (prog's) commands and flags.
func NewCompletionCommand(stdio *IO, prog string) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Description: "Load it in the current shell with, for example:\n" +
			"   source <(" + prog + " completion bash)",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 1 {
				return Usagef("completion takes one shell name: bash or zsh")
			}
			script, err := CompletionScript(cCtx.App.Name, cCtx.Args().First())
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(stdio.Out, script)
			return err
		},
	}
}

// CompletionScript returns the completion script for prog in the given
// shell. The scripts ask the binary itself for candidates through
// urfave/cli's --generate-bash-completion flag.
func CompletionScript(prog, shell string) (string, error) {
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(prog) + "_complete"
	switch shell {
	case "bash":
		return fmt.Sprintf(`# bash completion for %[1]s
%[2]s() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local request=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  [[ "$cur" == -* ]] && request+=("$cur")
  COMPREPLY=($(compgen -W "$("${request[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F %[2]s %[1]s
`, prog, fn), nil
	case "zsh":
		return fmt.Sprintf(`#compdef %[1]s
# zsh completion for %[1]s
%[2]s() {
  local -a candidates
  local cur=${words[-1]}
  local -a request=(${words[@]:0:#words[@]-1})
  [[ "$cur" == -* ]] && request+=("$cur")
  candidates=("${(@f)$(${request[@]} --generate-bash-completion 2>/dev/null)}")
  if [[ -n "${candidates[1]}" ]]; then
    _describe 'values' candidates
  else
    _files
  fi
}
compdef %[2]s %[1]s
`, prog, fn), nil
	}
	return "", Usagef("unknown shell %q: want bash or zsh", shell)
}
