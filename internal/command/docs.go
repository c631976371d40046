package command

import (
	"fmt"
	"os"

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
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it in the current shell with, for example:\n" +
			"   source <(" + prog + " completion bash)\n" +
			"   " + prog + " completion fish | source\n" +
			"Completion asks '" + prog + " __complete' for names and never runs a command.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 1 {
				return Usagef("completion takes one shell name: bash, zsh or fish")
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
