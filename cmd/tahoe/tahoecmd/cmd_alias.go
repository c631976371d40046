package tahoecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// createAliasOptions are create-alias's arguments.
type createAliasOptions struct {
	Alias  string
	Format string // SDMF or MDMF
}

func newCreateAliasCommand(f *command.Factory) *cli.Command {
	var o createAliasOptions
	return &cli.Command{
		Name:      "create-alias",
		Usage:     "create a new directory and an alias for it",
		ArgsUsage: "ALIAS[:]",
		Flags:     withFileStoreFlags(f, &cli.StringFlag{Name: "format", Usage: "SDMF or MDMF", Destination: &o.Format}),
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "ALIAS"); err != nil {
				return err
			}
			o.Alias = cCtx.Args().First()
			return tahoeHTTPError(f, "Error during HTTP request", 1, runCreateAlias(cCtx.Context, f, o))
		},
	}
}

func runCreateAlias(ctx context.Context, f *command.Factory, o createAliasOptions) error {
	alias := strings.TrimSuffix(o.Alias, ":")
	if err := nodedir.CheckAliasName(alias); err != nil {
		return err
	}
	format, err := mutableFormat(o.Format)
	if err != nil {
		return err
	}
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	if aliases[alias] != "" {
		return fmt.Errorf("Alias '%s' already exists!", alias)
	}
	s, err := f.Store()
	if err != nil {
		return err
	}
	dir, err := s.Mkdir(ctx, filestore.MkdirOptions{Format: format})
	if err != nil {
		return err
	}
	node, err := f.Node()
	if err != nil {
		return err
	}
	if err := node.AddAlias(alias, dir.String()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(f.IO.Out, "Alias '%s' created\n", alias)
	return err
}

// addAliasOptions are add-alias's arguments.
type addAliasOptions struct {
	Alias, Cap string
}

func newAddAliasCommand(f *command.Factory) *cli.Command {
	return &cli.Command{
		Name:      "add-alias",
		Usage:     "add an alias for an existing directory cap",
		ArgsUsage: "ALIAS[:] DIRCAP",
		Flags:     fileStoreFlags(f),
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 2, "ALIAS DIRCAP"); err != nil {
				return err
			}
			return runAddAlias(f, addAliasOptions{Alias: cCtx.Args().Get(0), Cap: cCtx.Args().Get(1)})
		},
	}
}

func runAddAlias(f *command.Factory, o addAliasOptions) error {
	alias := strings.TrimSuffix(o.Alias, ":")
	dir, err := caps.Parse(o.Cap)
	if err != nil {
		return err
	}
	if !dir.IsDirectory() {
		return fmt.Errorf("%s is not a directory cap", dir.Kind)
	}
	node, err := f.Node()
	if err != nil {
		return err
	}
	if err := node.AddAlias(alias, dir.String()); err != nil {
		if errors.Is(err, nodedir.ErrAliasExists) {
			return fmt.Errorf("Alias '%s' already exists!", alias)
		}
		return err
	}
	_, err = fmt.Fprintf(f.IO.Out, "Alias '%s' added\n", alias)
	return err
}

// listAliasesOptions are list-aliases's switches.
type listAliasesOptions struct {
	ReadOnly bool
	JSON     bool
}

func newListAliasesCommand(f *command.Factory) *cli.Command {
	var o listAliasesOptions
	return &cli.Command{
		Name:  "list-aliases",
		Usage: "list the aliases of the node directory",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "readonly-uri", Usage: "show read-only caps", Destination: &o.ReadOnly},
			&cli.BoolFlag{Name: "json", Usage: "print {alias: {readwrite, readonly}}", Destination: &o.JSON},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 0 {
				return command.Usagef("list-aliases takes no arguments")
			}
			return runListAliases(f, o)
		},
	}
}

func runListAliases(f *command.Factory, o listAliasesOptions) error {
	aliases, err := f.Aliases()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(aliases))
	width := 0
	type details struct {
		ReadWrite string `json:"readwrite"`
		ReadOnly  string `json:"readonly"`
	}
	data := map[string]details{}
	for name, s := range aliases {
		names = append(names, name)
		width = max(width, len(name))
		d := details{ReadWrite: s, ReadOnly: s}
		if c, err := caps.Parse(s); err == nil && c.ReadOnly() != nil {
			d = details{ReadWrite: c.String(), ReadOnly: c.ReadOnly().String()}
		}
		data[name] = d
	}
	sort.Strings(names)
	if o.JSON {
		b, err := json.MarshalIndent(data, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.IO.Out, string(b))
		return err
	}
	for _, name := range names {
		s := data[name].ReadWrite
		if o.ReadOnly {
			s = data[name].ReadOnly
		}
		if _, err := fmt.Fprintf(f.IO.Out, "%*s: %s\n", width, name, s); err != nil {
			return err
		}
	}
	return nil
}

// mutableFormat reads a mutable --format: SDMF (the default) or MDMF.
func mutableFormat(s string) (filestore.Format, error) {
	switch strings.ToUpper(s) {
	case "", "SDMF":
		return filestore.FormatSDMF, nil
	case "MDMF":
		return filestore.FormatMDMF, nil
	}
	return 0, command.Usagef("--format=%s: want SDMF or MDMF", s)
}
