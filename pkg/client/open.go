package client

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// GridKind says how a node directory reaches its grid.
type GridKind string

// The kinds of grid a node directory can use.
const (
	GridNetwork GridKind = "network" // private/servers.yaml: GBS over TLS
	GridLocal   GridKind = "local"   // the embedded local grid
)

// ErrNoGrid means the node directory configures no grid at all.
var ErrNoGrid = errors.New("no grid configured: no private/servers.yaml and no embedded local grid")

// OpenServers returns the storage servers of a node directory: the static
// servers of private/servers.yaml reached over GBS when that file lists
// any, else the embedded local grid. Warnings name servers that were left
// out. Release the servers with CloseServers.
func OpenServers(node *nodedir.Node) ([]Server, GridKind, []string, error) {
	entries, warnings, err := node.Servers()
	if err != nil {
		return nil, "", nil, err
	}
	if len(entries) > 0 {
		var out []Server
		for _, e := range entries {
			if len(e.NURLs) == 0 {
				warnings = append(warnings, fmt.Sprintf("server %s has no anonymous-storage-NURLs: only the HTTP storage protocol is supported", e.ID))
				continue
			}
			c, err := gbs.New(e.NURLs[0], gbs.Options{})
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("server %s: %v", e.ID, err))
				continue
			}
			addr := ""
			if n, err := gbswire.ParseNURL(e.NURLs[0]); err == nil {
				addr = net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
			}
			out = append(out, Server{
				ID: e.ID, Nickname: e.Nickname, Addr: addr,
				PermutationSeed: e.PermutationSeed, LeaseSeed: e.LeaseSeed,
				Storage: c,
			})
		}
		if len(out) == 0 {
			return nil, "", warnings, fmt.Errorf("%s lists no usable server", node.Path("private", "servers.yaml"))
		}
		return out, GridNetwork, warnings, nil
	}
	if HasLocalGrid(node.Dir) {
		servers, err := OpenLocalGrid(node.Dir)
		return servers, GridLocal, warnings, err
	}
	return nil, "", warnings, ErrNoGrid
}

// ErrGateway means the node directory only names a web-API gateway
// (node.url), which this client cannot drive yet.
var ErrGateway = errors.New("this node directory only has node.url (a web-API gateway); driving a gateway is not supported yet")

// NewFromNode makes a Client for a node directory: its encoding
// parameters, secrets (created as Tahoe does when missing) and servers.
// Release it with Close.
func NewFromNode(node *nodedir.Node) (*Client, GridKind, []string, error) {
	enc, err := node.Encoding()
	if err != nil {
		return nil, "", nil, err
	}
	servers, kind, warnings, err := OpenServers(node)
	if errors.Is(err, ErrNoGrid) {
		if u, _ := node.NodeURL(); u != "" {
			return nil, "", warnings, ErrGateway
		}
	}
	if err != nil {
		return nil, "", warnings, err
	}
	conv, err := node.ConvergenceSecret()
	if err != nil {
		CloseServers(servers)
		return nil, "", warnings, err
	}
	lease, err := node.LeaseSecret()
	if err != nil {
		CloseServers(servers)
		return nil, "", warnings, err
	}
	return &Client{Servers: servers, Encoding: enc, Convergence: conv, LeaseSecret: lease}, kind, warnings, nil
}

// Close releases the client's servers.
func (c *Client) Close() { CloseServers(c.Servers) }
