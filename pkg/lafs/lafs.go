// Package lafs opens a node directory's file store: the one place that
// decides how a node directory reaches its grid and hands back a
// filestore.Store for it. In order: a node URL given by the caller or a
// node.url with no grid of its own (a gateway: a node's web API), the
// static servers of private/servers.yaml (direct, over GBS), or the
// embedded local grid kept inside the node directory (direct, in process).
//
// It owns the choice only; the implementations are pkg/client (direct),
// pkg/localgrid (the embedded servers) and, for a gateway,
// pkg/webapi/gateway.
package lafs

import (
	"errors"
	"fmt"
	"os"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/s3direct"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// Mode is how a store reaches its grid.
type Mode string

// The modes.
const (
	ModeLocal   Mode = "local"   // the embedded local grid, in process
	ModeNetwork Mode = "network" // storage servers of private/servers.yaml, over GBS
	ModeGateway Mode = "gateway" // a node's web API (node.url, or Options.NodeURL)
)

// ErrNoGrid means the node directory configures no grid at all.
var ErrNoGrid = errors.New("no grid configured: no private/servers.yaml, no embedded local grid and no node.url")

// ErrGatewayUnsupported means the chosen mode is a gateway, which this
// build cannot drive yet.
//
// Deprecated: Open returns a gateway store now and never this error; it
// is kept so that callers written against the old Open still compile.
var ErrGatewayUnsupported = errors.New("driving a node's web API (node.url) is not supported yet")

// Options tune Open.
type Options struct {
	// NodeURL, when set, forces gateway mode against that web API (Tahoe's
	// -u/--node-url).
	NodeURL string
	// Warn is told about servers left out and similar problems that do not
	// stop the store from opening; nil to ignore them.
	Warn func(msg string)
}

// Detect says which mode a node directory selects, without opening
// anything.
func Detect(node *nodedir.Node, o Options) (Mode, error) {
	if o.NodeURL != "" {
		return ModeGateway, nil
	}
	if _, err := os.Stat(node.Path("private", "servers.yaml")); err == nil {
		return ModeNetwork, nil
	}
	if localgrid.Exists(node.Dir) {
		return ModeLocal, nil
	}
	if u, _ := node.NodeURL(); u != "" {
		return ModeGateway, nil
	}
	return "", ErrNoGrid
}

// Open opens the file store a node directory selects. Close it when done.
func Open(node *nodedir.Node, o Options) (filestore.Store, Mode, error) {
	warn := o.Warn
	if warn == nil {
		warn = func(string) {}
	}
	mode, err := Detect(node, o)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", node.Dir, err)
	}
	var servers []client.Server
	kind := client.GridLocal
	switch mode {
	case ModeGateway:
		return openGateway(node, o), mode, nil
	case ModeNetwork:
		var warnings []string
		// Entries with a lafs-s3 block are served in process, straight
		// into their buckets (direct-to-S3).
		servers, warnings, err = client.OpenServers(node, s3direct.Open)
		for _, w := range warnings {
			warn(w)
		}
		if err == nil && len(servers) == 0 {
			if !localgrid.Exists(node.Dir) {
				return nil, mode, fmt.Errorf("%s: %w", node.Dir, ErrNoGrid)
			}
			mode = ModeLocal
			servers, err = localgrid.Open(node.Dir)
		} else {
			kind = client.GridNetwork
		}
	case ModeLocal:
		servers, err = localgrid.Open(node.Dir)
	}
	if err != nil {
		return nil, mode, err
	}
	c, err := client.New(node, servers)
	if err != nil {
		return nil, mode, err
	}
	return client.NewStore(c, kind), mode, nil
}

// openGateway returns the gateway store for a node: Options.NodeURL when
// given, else the node's node.url, read on the first request rather than
// now. Either way the node's private/api_auth_token is the one the store
// gives the pages that want it.
func openGateway(node *nodedir.Node, o Options) filestore.Store {
	gopts := gateway.Options{NodeDir: node.Dir}
	if o.NodeURL != "" {
		return gateway.New(o.NodeURL, gopts)
	}
	return gateway.NewFromNodeDir(node.Dir, gopts)
}
