package lafscmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

func newAliasCommand(f *command.Factory) *cli.Command {
	var out output
	return &cli.Command{
		Name:  "alias",
		Usage: "manage aliases: names for directory caps (home: ...)",
		Description: "Aliases live in the node directory's private/aliases, the file tahoe's create-alias,\n" +
			"add-alias and list-aliases use.",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add an alias for DIRCAP, or for a new directory",
				ArgsUsage: "NAME [DIRCAP]",
				Flags:     []cli.Flag{jsonFlag(&out, "print {name, cap}")},
				Action: func(cCtx *cli.Context) error {
					if cCtx.NArg() < 1 || cCtx.NArg() > 2 {
						return command.Usagef("alias add takes NAME and an optional DIRCAP, got %d arguments", cCtx.NArg())
					}
					j, err := asJSON(f, out)
					if err != nil {
						return err
					}
					return runAliasAdd(cCtx.Context, f, strings.TrimSuffix(cCtx.Args().Get(0), ":"), cCtx.Args().Get(1), j)
				},
			},
			{
				Name:  "ls",
				Usage: "list the aliases: a table on a terminal, NAME<TAB>CAP when piped",
				Flags: []cli.Flag{jsonFlag(&out, "print one {name, cap, readcap} a line")},
				Action: func(cCtx *cli.Context) error {
					if cCtx.NArg() > 0 {
						return command.Usagef("alias ls takes no arguments, got %d", cCtx.NArg())
					}
					j, err := asJSON(f, out)
					if err != nil {
						return err
					}
					return runAliasLs(f, j)
				},
			},
			{
				Name:      "rm",
				Usage:     "remove aliases (the directories stay in the grid)",
				ArgsUsage: "NAME...",
				Flags:     []cli.Flag{jsonFlag(&out, "print one {name, cap} a line")},
				Action: func(cCtx *cli.Context) error {
					if cCtx.NArg() == 0 {
						return command.Usagef("alias rm needs at least one NAME")
					}
					j, err := asJSON(f, out)
					if err != nil {
						return err
					}
					return runAliasRm(f, cCtx.Args().Slice(), j)
				},
			},
		},
	}
}

type aliasJSON struct {
	Name    string `json:"name"`
	Cap     string `json:"cap"`
	ReadCap string `json:"readcap,omitempty"`
}

func runAliasAdd(ctx context.Context, f *command.Factory, name, dirCap string, asJSON bool) error {
	if err := nodedir.CheckAliasName(name); err != nil {
		return command.Usagef("%s", strings.TrimSuffix(err.Error(), "."))
	}
	node, err := f.Node()
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	if _, ok := aliases[name]; ok {
		return &command.Error{Err: fmt.Errorf("alias %s already exists", name), Code: command.ExitError, Kind: command.CodeExists,
			Hint: "remove it first with 'lafs alias rm " + name + "'"}
	}
	if dirCap == "" {
		s, err := f.Store()
		if err != nil {
			return err
		}
		c, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatSDMF})
		if err != nil {
			return err
		}
		dirCap = c.String()
	} else if c, err := caps.Parse(dirCap); err != nil || !c.IsDirectory() {
		return command.Usagef("%s is not a directory cap", dirCap)
	}
	if err := node.AddAlias(name, dirCap); err != nil {
		return err
	}
	if asJSON {
		return command.WriteJSONCompact(f.IO.Out, aliasJSON{Name: name, Cap: dirCap})
	}
	_, err = fmt.Fprintf(f.IO.Out, "%s: %s\n", name, dirCap)
	return err
}

func runAliasLs(f *command.Factory, asJSON bool) error {
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(aliases))
	for n := range aliases {
		names = append(names, n)
	}
	sort.Strings(names)
	t := newTable(f, "NAME", "CAP")
	t.shrink = 1
	for _, n := range names {
		a := aliasJSON{Name: n, Cap: aliases[n]}
		if c, err := caps.Parse(a.Cap); err == nil {
			if rc, err := c.Attenuate(caps.LevelRead); err == nil {
				a.ReadCap = rc.String()
			}
		}
		if asJSON {
			if err := command.WriteJSONCompact(f.IO.Out, a); err != nil {
				return err
			}
			continue
		}
		t.row(safeName(n)+":", a.Cap)
	}
	if asJSON {
		return nil
	}
	return t.flush()
}

func runAliasRm(f *command.Factory, names []string, asJSON bool) error {
	node, err := f.Node()
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	drop := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSuffix(n, ":")
		if _, ok := aliases[n]; !ok {
			return &command.Error{Err: fmt.Errorf("no alias %s", n), Code: command.ExitError, Kind: command.CodeUnknownAlias, Hint: "'lafs alias ls' lists them"}
		}
		drop[n] = true
	}
	path := node.Path("private", "aliases")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading aliases: %w", err)
	}
	var kept bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, _, ok := strings.Cut(line, ":"); ok && drop[strings.TrimSpace(name)] && !strings.HasPrefix(line, "#") {
			continue
		}
		kept.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading aliases: %w", err)
	}
	if err := nodedir.WriteFileAtomic(path, kept.Bytes(), 0o600); err != nil {
		return errors.Join(fmt.Errorf("writing aliases"), err)
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ":")
		if asJSON {
			if err := command.WriteJSONCompact(f.IO.Out, aliasJSON{Name: n, Cap: aliases[n]}); err != nil {
				return err
			}
		}
	}
	return nil
}
