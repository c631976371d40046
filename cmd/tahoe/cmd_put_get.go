package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// openClient opens the node directory's grid for a command.
func openClient(cCtx *cli.Context, stdio *command.IO) (*client.Client, error) {
	g := readGlobals(cCtx)
	node, err := nodedir.Open(g.NodeDir)
	if err != nil {
		return nil, command.WithHint(err, "create a node with 'tahoe create-client --local-grid=10 "+g.NodeDir+"' or give -d NODEDIR")
	}
	c, _, warnings, err := client.NewFromNode(node)
	for _, w := range warnings {
		fmt.Fprintf(stdio.Err, "tahoe: warning: %s\n", w)
	}
	if errors.Is(err, client.ErrNoGrid) {
		return nil, command.WithHint(fmt.Errorf("%s: %w", g.NodeDir, err), "add servers to private/servers.yaml, or make an embedded grid with 'tahoe create-client --local-grid=10 DIR'")
	}
	return c, err
}

func newPutCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "put",
		Usage:     "upload a file into the grid and print its cap",
		ArgsUsage: "[FROM|-]",
		Description: "Uploads FROM (or standard input) as an immutable file and prints its read cap on stdout.\n" +
			"Exit status: 0 success, 1 failure (nothing is printed on stdout), 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "mutable", Aliases: []string{"m"}, Usage: "create a mutable file (not supported yet)"},
			&cli.StringFlag{Name: "format", Usage: "CHK for an immutable file (SDMF and MDMF are not supported yet)"},
			&cli.StringFlag{Name: "private-key-path", Usage: "RSA key for a mutable file (not supported yet)"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("linking into directories (put FROM TO) is not supported yet: give only FROM")
			}
			if cCtx.Bool("mutable") || cCtx.IsSet("private-key-path") {
				return command.Usagef("mutable files are not supported yet")
			}
			if f := strings.ToUpper(cCtx.String("format")); f != "" && f != "CHK" {
				return command.Usagef("--format=%s: only CHK (immutable) files are supported yet", cCtx.String("format"))
			}
			g := readGlobals(cCtx)
			from := cCtx.Args().First()
			if (from == "" || from == "-") && !g.Quiet {
				fmt.Fprintln(stdio.Err, "waiting for file data on stdin..")
			}
			f, size, err := command.OpenInput(from, stdio)
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := c.Upload(cCtx.Context, f, size, nil)
			if err != nil {
				return err
			}
			if !g.Quiet {
				if res.Uploaded == 0 && res.Kept > 0 {
					fmt.Fprintln(stdio.Err, "200 OK")
				} else {
					fmt.Fprintln(stdio.Err, "201 Created")
				}
			}
			_, err = fmt.Fprintln(stdio.Out, res.Cap.String())
			return err
		},
	}
}

func newGetCommand(stdio *command.IO) *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "download a file from the grid",
		ArgsUsage: "CAP [TO|-]",
		Description: "Writes the file to TO, or to stdout when TO is '-' or absent. TO appears only when the whole\n" +
			"file was downloaded and verified; on failure nothing is left behind.\n" +
			"Exit status: 0 success, 1 failure, 2 usage error.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 1 || cCtx.NArg() > 2 {
				return command.Usagef("get takes CAP and an optional TO, got %d arguments", cCtx.NArg())
			}
			cp, err := caps.Parse(cCtx.Args().Get(0))
			if err != nil {
				return err
			}
			if cp.IsUnknown() {
				return fmt.Errorf("%q is not a cap (aliases and paths are not supported yet)", cCtx.Args().Get(0))
			}
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			to := cCtx.Args().Get(1)
			if to == "" || to == "-" {
				return c.Download(cCtx.Context, cp, stdio.Out, nil)
			}
			out, err := safefile.Create(to, true) // Tahoe's get overwrites TO
			if err != nil {
				return err
			}
			if err := c.Download(cCtx.Context, cp, out, nil); err != nil {
				out.Abort()
				return err
			}
			return out.Commit()
		},
	}
}
