package tahoecmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/webapi/gateway"
	"github.com/urfave/cli/v2"
)

// statusOptions are tahoe status's switch.
type statusOptions struct {
	Verbose bool
}

func newStatusCommand(f *command.Factory) *cli.Command {
	var o statusOptions
	return &cli.Command{
		Name:  "status",
		Usage: "show the running node's statistics and its active and recent operations",
		Description: "Asks the node whose node.url the node directory holds for its /status and /statistics (POSTing\n" +
			"private/api_auth_token, as Tahoe-LAFS's tahoe status does) and prints the bytes and files it has\n" +
			"uploaded and downloaded, then its active and recent operations (uploads and downloads; with\n" +
			"--verbose also mutable publishes, retrieves and servermap updates). It works against a real Tahoe\n" +
			"node and against `tahoe run`. Without a running node (no node.url: the embedded local grid or\n" +
			"storage servers reached directly) there is no operation history to show: each command is its own\n" +
			"client, and status says so. Exit status 2 when the node cannot be asked, as Tahoe's.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "include publish, retrieve, mapupdate in ops", Destination: &o.Verbose},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 0 {
				return command.Usagef("Wrong number of arguments.")
			}
			return runStatus(cCtx.Context, f, o)
		},
	}
}

// errNoRunningNode is status in a node directory with no web API.
var errNoRunningNode = errors.New("no running node: the node directory has no node.url, so there is no node whose operations to show (in direct mode each command is its own client and none keeps a history)")

func runStatus(ctx context.Context, f *command.Factory, o statusOptions) error {
	n, err := f.Node()
	if err != nil {
		return err
	}
	nodeURL, err := n.NodeURL()
	if err != nil {
		return err
	}
	if nodeURL == "" {
		return command.WithHint(errNoRunningNode, "start the node with 'tahoe run "+n.Path()+"' and use it through its node.url")
	}
	if _, err := os.Stat(filepath.Join(n.Path(), "private", "api_auth_token")); err != nil {
		return fmt.Errorf("reading the web API token: %w", err)
	}
	st := gateway.New(nodeURL, gateway.Options{NodeDir: n.Path(), UserAgent: tahoeUserAgent})
	defer st.Close()
	fail := func(err error) error {
		fmt.Fprintf(f.IO.Err, "failed to retrieve data: %s\n", retrieveError(nodeURL, err))
		return command.Reported(2)
	}
	statusBody, err := st.TokenJSON(ctx, "status")
	if err != nil {
		return fail(err)
	}
	statsBody, err := st.TokenJSON(ctx, "statistics")
	if err != nil {
		return fail(err)
	}
	status, err := decodeJSON(statusBody)
	if err != nil {
		return fail(err)
	}
	stats, err := decodeJSON(statsBody)
	if err != nil {
		return fail(err)
	}
	return renderStatus(f.IO.Out, status, stats, o.Verbose)
}

// tahoeUserAgent names this client to the node.
const tahoeUserAgent = "lafs (tahoe-client)"

// retrieveError words a failure as Tahoe's status does: a connection
// failure as "Failed to get json from 'URL': [Errno 111] Connection
// refused" (as Python shows an errno); anything else as it is.
func retrieveError(nodeURL string, err error) string {
	var sc *gateway.StatusError
	if errors.As(err, &sc) {
		// Tahoe reads the error page as JSON and fails to parse it.
		return "Expecting value: line 1 column 1 (char 0)"
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		return err.Error()
	}
	reason := op.Err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		// Python's OSError: "[Errno 111] Connection refused".
		words := errno.Error()
		if words != "" {
			words = strings.ToUpper(words[:1]) + words[1:]
		}
		reason = fmt.Sprintf("[Errno %d] %s", int(errno), words)
	}
	return fmt.Sprintf("Failed to get json from '%s': %s", strings.TrimSpace(nodeURL), reason)
}
