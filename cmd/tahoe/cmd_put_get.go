package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/safefile"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// openClient opens the node directory's grid for a command.
func openClient(cCtx *cli.Context, stdio *command.IO) (filestore.Store, error) {
	g := readGlobals(cCtx)
	node, err := nodedir.Open(g.NodeDir)
	if err != nil {
		return nil, command.WithHint(err, "create a node with 'tahoe create-client --local-grid=10 "+g.NodeDir+"' or give -d NODEDIR")
	}
	c, _, err := lafs.Open(node, lafs.Options{Warn: func(w string) { fmt.Fprintf(stdio.Err, "tahoe: warning: %s\n", w) }})
	if errors.Is(err, lafs.ErrNoGrid) {
		return nil, command.WithHint(err, "add servers to private/servers.yaml, or make an embedded grid with 'tahoe create-client --local-grid=10 DIR'")
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
			&cli.BoolFlag{Name: "mutable", Aliases: []string{"m"}, Usage: "create a mutable file (SDMF unless --format says MDMF)"},
			&cli.StringFlag{Name: "format", Usage: "CHK (immutable), or SDMF or MDMF (mutable)"},
			&cli.StringFlag{Name: "private-key-path", Usage: "PEM file with the RSA key of a new mutable file"},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 2 {
				return command.Usagef("put takes FROM and an optional TO, got %d arguments", cCtx.NArg())
			}
			var target *caps.Cap
			var linkTo *tahoePath
			if to := cCtx.Args().Get(1); to != "" {
				if cp, err := caps.Parse(to); err == nil && cp.IsMutable() && !cp.IsDirectory() {
					target = cp
				} else {
					node, err := openNode(cCtx)
					if err != nil {
						return err
					}
					tp, err := parseTahoePath(node, to)
					if err != nil {
						return err
					}
					linkTo = &tp
				}
			}
			format := strings.ToUpper(cCtx.String("format"))
			switch format {
			case "", "CHK", "SDMF", "MDMF":
			default:
				return command.Usagef("--format=%s: want CHK, SDMF or MDMF", cCtx.String("format"))
			}
			isMutable := cCtx.Bool("mutable") || format == "SDMF" || format == "MDMF"
			if isMutable && format == "CHK" {
				return command.Usagef("--format=CHK is immutable; it cannot go with --mutable")
			}
			if cCtx.IsSet("private-key-path") && !isMutable {
				return command.Usagef("--private-key-path is only for mutable files (--mutable)")
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
			if target != nil {
				return overwriteMutable(cCtx, stdio, c, f, target, g.Quiet)
			}
			if isMutable {
				return putMutable(cCtx, stdio, c, f, format, g.Quiet, linkTo)
			}
			res, err := c.Upload(cCtx.Context, f, int64(size), filestore.UploadOptions{})
			if err != nil {
				return err
			}
			if linkTo != nil {
				if err := linkAt(cCtx, c, *linkTo, res.Cap); err != nil {
					return err
				}
			}
			if !g.Quiet {
				if !res.Created {
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
			c, err := openClient(cCtx, stdio)
			if err != nil {
				return err
			}
			defer c.Close()
			node, err := openNode(cCtx)
			if err != nil {
				return err
			}
			aliases, err := node.Aliases()
			if err != nil {
				return err
			}
			cp, err := filestore.LookupFile(cCtx.Context, c, aliases, cCtx.Args().Get(0))
			if err != nil {
				return err
			}
			to := cCtx.Args().Get(1)
			if to == "" || to == "-" {
				return c.Download(cCtx.Context, cp, stdio.Out, filestore.DownloadOptions{})
			}
			out, err := safefile.Create(to, true) // Tahoe's get overwrites TO
			if err != nil {
				return err
			}
			if err := c.Download(cCtx.Context, cp, out, filestore.DownloadOptions{}); err != nil {
				out.Abort()
				return err
			}
			return out.Commit()
		},
	}
}

// putMutable creates a mutable file from the input.
func putMutable(cCtx *cli.Context, stdio *command.IO, c filestore.Store, f io.Reader, format string, quiet bool, linkTo *tahoePath) error {
	data, err := readMutableInput(f)
	if err != nil {
		return err
	}
	var key *rsa.PrivateKey
	if p := cCtx.String("private-key-path"); p != "" {
		if key, err = loadRSAKey(p); err != nil {
			return err
		}
	}
	cp, err := c.CreateMutable(cCtx.Context, data, filestore.MutableOptions{Format: mkdirFormat(format), Key: key})
	if err != nil {
		return err
	}
	if linkTo != nil {
		if err := linkAt(cCtx, c, *linkTo, cp); err != nil {
			return err
		}
	}
	if !quiet {
		fmt.Fprintln(stdio.Err, "201 Created")
	}
	_, err = fmt.Fprintln(stdio.Out, cp.String())
	return err
}

// overwriteMutable replaces a mutable file's contents (tahoe put FROM
// WRITECAP), printing the writecap as Tahoe does.
func overwriteMutable(cCtx *cli.Context, stdio *command.IO, c filestore.Store, f io.Reader, target *caps.Cap, quiet bool) error {
	data, err := readMutableInput(f)
	if err != nil {
		return err
	}
	if err := c.OverwriteMutable(cCtx.Context, target, data); err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintln(stdio.Err, "200 OK")
	}
	_, err = fmt.Fprintln(stdio.Out, target.String())
	return err
}

// readMutableInput reads a mutable file's new contents, which are held in
// memory while publishing.
func readMutableInput(f io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxMutableSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	if len(data) > maxMutableSize {
		return nil, fmt.Errorf("mutable files are limited to %d bytes here", maxMutableSize)
	}
	return data, nil
}

// maxMutableSize bounds a mutable file held in memory while publishing.
const maxMutableSize = 1 << 30

// loadRSAKey reads a PEM RSA private key (PKCS#1 or PKCS#8), as Tahoe's
// --private-key-path accepts.
func loadRSAKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not an RSA private key: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA private key", path)
	}
	return rk, nil
}

// linkAt links cp at a path (tahoe put FROM ALIAS:path), replacing what is
// there as Tahoe's PUT does.
func linkAt(cCtx *cli.Context, c filestore.Store, tp tahoePath, cp *caps.Cap) error {
	parent, name, err := resolveParent(cCtx, c, tp)
	if err != nil {
		return err
	}
	return c.Link(cCtx.Context, parent, name, cp, true)
}
