package tahoecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
)

// webopenOptions are webopen's argument and switch.
type webopenOptions struct {
	Where string // "" for the welcome page
	Info  bool
	// Getenv and LookPath find the browser (os.Getenv and exec.LookPath
	// when nil).
	Getenv   func(string) string
	LookPath func(string) (string, error)
}

func newWebopenCommand(f *command.Factory) *cli.Command {
	var o webopenOptions
	return &cli.Command{
		Name:      "webopen",
		Usage:     "open a web browser to a file or directory on the grid (the welcome page without ALIAS:PATH)",
		ArgsUsage: "[ALIAS:PATH]",
		Description: "Opens the node's web page for ALIAS:PATH with $BROWSER, xdg-open or open, as Tahoe's webopen\n" +
			"does. When no browser can be started, the URL is printed on stdout instead.",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "info", Aliases: []string{"i"}, Usage: "open the t=info page for the file", Destination: &o.Info},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 1 {
				return command.Usagef("Wrong number of arguments.")
			}
			o.Where = cCtx.Args().First()
			return runWebopen(cCtx.Context, f, o)
		},
	}
}

// webopenURL is the page Tahoe's webopen opens: the node's URL, then
// uri/ROOTCAP/escaped/path for ALIAS:PATH, then ?t=info with --info.
func webopenURL(f *command.Factory, o webopenOptions) (string, error) {
	base := f.NodeURL
	if base == "" {
		n, err := f.Node()
		if err != nil {
			return "", err
		}
		if base, err = n.NodeURL(); err != nil {
			return "", err
		}
		if base == "" {
			return "", command.WithHint(errors.New("the node directory has no node.url: no web API to open"), "give the gateway's URL with -u URL, or start the node ('tahoe run')")
		}
	}
	u := strings.TrimSuffix(base, "/") + "/"
	if o.Where != "" {
		aliases, err := f.Aliases()
		if err != nil {
			return "", err
		}
		root, rel, err := nodedir.SplitPath(aliases, o.Where)
		if err != nil {
			return "", err
		}
		u += "uri/" + pyQuote(root)
		if rel = strings.Trim(rel, "/"); rel != "" {
			parts := strings.Split(rel, "/")
			for i, p := range parts {
				parts[i] = pyQuote(p)
			}
			u += "/" + strings.Join(parts, "/")
		}
	}
	if o.Info {
		u += "?t=info"
	}
	return u, nil
}

func runWebopen(ctx context.Context, f *command.Factory, o webopenOptions) error {
	u, err := webopenURL(f, o)
	if err != nil {
		return err
	}
	getenv, lookPath := o.Getenv, o.LookPath
	if getenv == nil {
		getenv = os.Getenv
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if browser := findBrowser(getenv, lookPath); browser != nil {
		cmd := exec.CommandContext(ctx, browser[0], append(browser[1:], u)...)
		if err := cmd.Run(); err == nil {
			return nil
		}
	}
	_, err = fmt.Fprintln(f.IO.Out, u)
	return err
}

// findBrowser returns the command that opens a URL: the first of
// $BROWSER's colon-separated commands found, else xdg-open (open on
// macOS); nil when there is none.
func findBrowser(getenv func(string) string, lookPath func(string) (string, error)) []string {
	for _, b := range strings.Split(getenv("BROWSER"), string(os.PathListSeparator)) {
		fields := strings.Fields(b)
		if len(fields) == 0 {
			continue
		}
		if p, err := lookPath(fields[0]); err == nil {
			return append([]string{p}, fields[1:]...)
		}
	}
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	if p, err := lookPath(opener); err == nil {
		return []string{p}
	}
	return nil
}

// pyQuote percent-encodes s as Python's urllib.parse.quote(s, safe="")
// does (Tahoe's url_quote and escape_path): everything but ASCII letters,
// digits and "_.-~", byte by byte of the UTF-8.
func pyQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte("_.-~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
