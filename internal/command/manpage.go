package command

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// ManSections are the parts of a per-command man page that the command
// definitions do not hold: what the binary says about its exit statuses,
// environment and files (the same on every page), and each command's
// examples (by the command's full name, "alias add").
type ManSections struct {
	Date        string // the pages' date (fixed, so the pages are reproducible)
	ExitStatus  string
	Environment [][2]string // name, meaning
	Files       [][2]string
	Examples    map[string][]string // command name -> "command line  # comment" lines
}

// ManPages renders one man page per visible command of app (subcommands
// too: "prog-alias-add.1"), named "prog-NAME.1", in section 1, with NAME,
// SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, ENVIRONMENT, FILES,
// EXAMPLES and SEE ALSO. The map is file name -> roff.
func ManPages(app *cli.App, s ManSections) map[string]string {
	app.Setup()
	pages := map[string]string{}
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			names := append(append([]string{}, prefix...), c.Name)
			pages[app.Name+"-"+strings.Join(names, "-")+".1"] = manPage(app, names, c, s)
			walk(names, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	return pages
}

func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func manPage(app *cli.App, names []string, c *cli.Command, s ManSections) string {
	full := app.Name + " " + strings.Join(names, " ")
	title := strings.ToUpper(app.Name + "-" + strings.Join(names, "-"))
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 %q %q %q\n", title, s.Date, app.Name, app.Name+" manual")
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffEscape(app.Name+"-"+strings.Join(names, "-")), roffEscape(c.Usage))
	b.WriteString(".SH SYNOPSIS\n")
	if len(c.Subcommands) > 0 {
		for _, sc := range c.Subcommands {
			if sc.Hidden || sc.Name == "help" {
				continue
			}
			fmt.Fprintf(&b, ".B %s %s\n[options] %s\n.br\n", roffEscape(full), sc.Name, roffEscape(sc.ArgsUsage))
		}
	} else {
		fmt.Fprintf(&b, ".B %s\n[options] %s\n", roffEscape(full), roffEscape(c.ArgsUsage))
	}
	b.WriteString(".SH DESCRIPTION\n")
	desc := c.Usage + "."
	if c.Description != "" {
		desc += "\n" + c.Description
	}
	b.WriteString(roffEscape(strings.Join(strings.Fields(desc), " ")) + "\n")
	b.WriteString(".SH OPTIONS\n")
	flags := append([]cli.Flag{}, c.Flags...)
	sort.SliceStable(flags, func(i, j int) bool { return flags[i].Names()[0] < flags[j].Names()[0] })
	if len(flags) == 0 {
		b.WriteString("None of its own.\n")
	}
	for _, fl := range flags {
		manFlag(&b, fl)
	}
	b.WriteString(".PP\nGlobal options (before or after the command):\n")
	for _, fl := range app.Flags {
		manFlag(&b, fl)
	}
	fmt.Fprintf(&b, ".SH EXIT STATUS\n%s\n", roffEscape(s.ExitStatus))
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range s.Environment {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffEscape(e[0]), roffEscape(e[1]))
	}
	b.WriteString(".SH FILES\n")
	for _, e := range s.Files {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roffEscape(e[0]), roffEscape(e[1]))
	}
	b.WriteString(".SH EXAMPLES\n")
	ex := s.Examples[strings.Join(names, " ")]
	if len(ex) == 0 {
		ex = []string{full + " --help"}
	}
	b.WriteString(".nf\n")
	for _, e := range ex {
		b.WriteString(roffEscape(e) + "\n")
	}
	b.WriteString(".fi\n")
	fmt.Fprintf(&b, ".SH SEE ALSO\n.BR %s (1)\n", app.Name)
	return b.String()
}

func manFlag(b *strings.Builder, fl cli.Flag) {
	if vf, ok := fl.(cli.VisibleFlag); ok && !vf.IsVisible() {
		return
	}
	var parts []string
	for _, n := range fl.Names() {
		if len(n) == 1 {
			parts = append(parts, "-"+n)
		} else {
			parts = append(parts, "--"+n)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return len(parts[i]) > len(parts[j]) })
	head := strings.Join(parts, ", ")
	usage := ""
	if d, ok := fl.(cli.DocGenerationFlag); ok {
		if d.TakesValue() {
			head += " VALUE"
		}
		usage = d.GetUsage()
		if v := d.GetValue(); v != "" && d.TakesValue() {
			usage += " (default " + v + ")"
		}
	}
	fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roffEscape(head), roffEscape(usage))
}

// WriteManPages writes pages into dir.
func WriteManPages(dir string, pages map[string]string) error {
	for name, text := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing man page: %w", err)
		}
	}
	return nil
}

// CheckManPages reports whether dir holds exactly pages for the files
// named prefix* (run 'make man' when it does not).
func CheckManPages(dir, prefix string, pages map[string]string) error {
	have, _ := filepath.Glob(filepath.Join(dir, prefix+"*.1"))
	for _, p := range have {
		if _, ok := pages[filepath.Base(p)]; !ok {
			return fmt.Errorf("%s is for no command: run 'make man' and commit", p)
		}
	}
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%w (run 'make man')", err)
		}
		if string(got) != want {
			return fmt.Errorf("%s is stale: run 'make man' and commit it", name)
		}
	}
	return nil
}
