package tahoecmd

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/webapi/gateway"
	"github.com/urfave/cli/v2"
)

// putOptions are put's arguments and switches.
type putOptions struct {
	From           string // "" or "-" for standard input
	To             string // "" for an unlinked upload; a path, or a mutable file's write cap
	Mutable        bool
	Format         string // CHK, SDMF or MDMF
	PrivateKeyPath string
}

func newPutCommand(f *command.Factory) *cli.Command {
	var o putOptions
	return &cli.Command{
		Name:      "put",
		Usage:     "upload a file into the grid and print its cap",
		ArgsUsage: "[FROM|-] [TO]",
		Description: "Uploads FROM (or standard input) as an immutable file and prints its read cap on stdout.\n" +
			"With TO (ALIAS:path, or a path in the 'tahoe' alias) it is linked there, replacing what is there\n" +
			"and creating missing directories; with TO a mutable file's write cap, that file gets a new version.\n" +
			"Exit status: 0 success, 1 failure (nothing is printed on stdout) or usage error.",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "mutable", Aliases: []string{"m"}, Usage: "create a mutable file (SDMF unless --format says MDMF)", Destination: &o.Mutable},
			&cli.StringFlag{Name: "format", Usage: "CHK (immutable), or SDMF or MDMF (mutable)", Destination: &o.Format},
			&cli.StringFlag{Name: "private-key-path", Usage: "PEM file with the RSA key of a new mutable file", Destination: &o.PrivateKeyPath},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 2 {
				return command.Usagef("put takes FROM and an optional TO, got %d arguments", cCtx.NArg())
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			return tahoeHTTPError(f, "Error", 1, runPut(cCtx.Context, f, o))
		},
	}
}

func runPut(ctx context.Context, f *command.Factory, o putOptions) error {
	var target *caps.Cap
	var linkTo *filestore.Path
	if o.To != "" {
		if cp, err := caps.Parse(o.To); err == nil && cp.IsMutable() && !cp.IsDirectory() {
			target = cp
		} else {
			p, err := gridPath(f, o.To)
			if err != nil {
				return err
			}
			if p.Rel == "" {
				return command.Usagef("%s names a directory: give the file's name in it", o.To)
			}
			linkTo = &p
		}
	}
	format := strings.ToUpper(o.Format)
	switch format {
	case "", "CHK", "SDMF", "MDMF":
	default:
		return command.Usagef("--format=%s: want CHK, SDMF or MDMF", o.Format)
	}
	isMutable := o.Mutable || format == "SDMF" || format == "MDMF"
	if isMutable && format == "CHK" {
		return command.Usagef("--format=CHK is immutable; it cannot go with --mutable")
	}
	if o.PrivateKeyPath != "" && !isMutable {
		return command.Usagef("--private-key-path is only for mutable files (--mutable)")
	}
	quiet := f.IO.Quiet
	if (o.From == "" || o.From == "-") && !quiet {
		fmt.Fprintln(f.IO.Err, "waiting for file data on stdin..")
	}
	in, size, err := command.OpenInput(o.From, f.IO)
	if err != nil {
		return err
	}
	defer in.Close()
	s, err := f.Store()
	if err != nil {
		return err
	}
	replacing := false
	if linkTo != nil {
		// Onto a mutable file: its contents are replaced in place (web API
		// PUT); through a read cap that is an error.
		c, err := filestore.Lookup(ctx, s, *linkTo)
		replacing = err == nil
		if err == nil && c.IsMutable() && !c.IsDirectory() {
			if c.IsReadOnly() {
				return fmt.Errorf("%s is a read-only mutable file: %w", o.To, filestore.ErrReadOnly)
			}
			target, linkTo = c, nil
		}
	}
	var out *caps.Cap
	status := "201 Created"
	switch {
	case target != nil:
		data, err := readMutableInput(in)
		if err != nil {
			return err
		}
		if err := s.OverwriteMutable(ctx, target, data); err != nil {
			return err
		}
		out, status = target, "200 OK" // Tahoe prints the write cap back
	case isMutable:
		data, err := readMutableInput(in)
		if err != nil {
			return err
		}
		var key *rsa.PrivateKey
		if o.PrivateKeyPath != "" {
			if key, err = loadRSAKey(o.PrivateKeyPath); err != nil {
				return err
			}
		}
		mf, _ := mutableFormat(format)
		if out, err = s.CreateMutable(ctx, data, filestore.MutableOptions{Format: mf, Key: key}); err != nil {
			return err
		}

	default:
		res, err := s.Upload(ctx, in, int64(size), filestore.UploadOptions{})
		if err != nil {
			return err
		}
		out = res.Cap
	}
	// Tahoe's node answers an unlinked PUT /uri with 200, and a PUT to a
	// path with 201 when it made a new link, 200 when it replaced one.
	if linkTo == nil || replacing {
		status = "200 OK"
	}
	if linkTo != nil {
		if err := linkAt(ctx, s, *linkTo, out); err != nil {
			return err
		}
	}
	if !quiet {
		fmt.Fprintln(f.IO.Err, status)
	}
	_, err = fmt.Fprintln(f.IO.Out, out.String())
	return err
}

// linkAt links c at a path (tahoe put FROM ALIAS:path), replacing what is
// there and creating missing directories on the way, as Tahoe's web API
// PUT does.
func linkAt(ctx context.Context, s filestore.Store, p filestore.Path, c *caps.Cap) error {
	if g, ok := s.(*gateway.Store); ok && p.Rel != "" {
		// One request, as Tahoe's put makes: the node makes the missing
		// directories and answers what is in the way with its own error.
		return g.LinkPath(ctx, p.Root, p.Rel, c, gateway.ReplaceAlways)
	}
	parent, name := p.Split()
	dir, err := filestore.MkdirAll(ctx, s, parent, filestore.FormatSDMF)
	if err != nil {
		return err
	}
	return s.Link(ctx, dir, name, c, true)
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
