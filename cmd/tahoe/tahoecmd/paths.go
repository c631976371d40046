package tahoecmd

import (
	"context"
	"net/url"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// gridPath reads a path argument that is always in the grid (a bare path
// is in the 'tahoe' alias), against the node's aliases.
func gridPath(f *command.Factory, arg string) (filestore.Path, error) {
	aliases, err := f.Aliases()
	if err != nil {
		return filestore.Path{}, err
	}
	l, err := location.ParseGrid(aliases, arg)
	if err != nil {
		return filestore.Path{}, err
	}
	return l.Path(), nil
}

// parentOf resolves the directory holding a path's last name; a root is a
// usage error (it has no parent to link or unlink in).
func parentOf(ctx context.Context, s filestore.Store, p filestore.Path) (*caps.Cap, string, error) {
	dir, name, err := filestore.Parent(ctx, s, p)
	if name == "" && err != nil {
		return nil, "", command.Usagef("%v", err)
	}
	return dir, name, err
}

// fileStoreFlags are the options every Tahoe command that works on the
// file store takes (Tahoe's FileStoreOptions): -u/--node-url, a gateway to
// use instead of the node directory's grid, and --dir-cap, the directory
// the 'tahoe' alias stands for. They fill f.
func fileStoreFlags(f *command.Factory) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "node-url", Aliases: []string{"u"}, Destination: &f.NodeURL,
			Usage:  "the URL of the Tahoe gateway node, such as 'http://127.0.0.1:3456' (overrides the node directory's)",
			Action: func(_ *cli.Context, s string) error { return checkNodeURL(s) }},
		&cli.StringFlag{Name: "dir-cap", Destination: &f.DirCap, Usage: "the directory cap to use as the 'tahoe' alias"},
	}
}

// checkNodeURL accepts what Tahoe's --node-url does: http or https, a
// host and an optional port, no path.
func checkNodeURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return command.Usagef("--node-url is required to be a string and look like \"http://HOSTNAMEORADDR:PORT\", not: %q", s)
	}
	return nil
}

// withFileStoreFlags appends the file-store options to a command's flags.
func withFileStoreFlags(f *command.Factory, flags ...cli.Flag) []cli.Flag {
	return append(flags, fileStoreFlags(f)...)
}
