package client

import (
	"fmt"
	"net"
	"strconv"

	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// GridKind says how a node directory reaches its grid.
type GridKind string

// The kinds of grid a node directory can use.
const (
	GridNetwork GridKind = "network" // private/servers.yaml: GBS over TLS
	GridLocal   GridKind = "local"   // the embedded local grid (pkg/localgrid)
)

// OpenNetwork returns the static storage servers of a node directory's
// private/servers.yaml, reached over GBS; none (and no error) when the file
// lists none. Warnings name servers that were left out. Release the
// servers with CloseServers.
func OpenNetwork(node *nodedir.Node) ([]Server, []string, error) {
	return OpenServers(node, nil)
}

// OpenDirect opens a servers.yaml entry whose shares are reached in
// process rather than over the network (an entry with a lafs-s3 block:
// pkg/s3direct).
type OpenDirect func(node *nodedir.Node, e nodedir.Server) (storage.Server, error)

// OpenServers is OpenNetwork with direct entries (those with a lafs-s3
// block) opened by direct; without it they are left out with a warning.
func OpenServers(node *nodedir.Node, direct OpenDirect) ([]Server, []string, error) {
	entries, warnings, err := node.Servers()
	if err != nil || len(entries) == 0 {
		return nil, warnings, err
	}
	var out []Server
	for _, e := range entries {
		if e.S3 != nil {
			if direct == nil {
				warnings = append(warnings, fmt.Sprintf("server %s is reached directly in S3, which this program does not do", e.ID))
				continue
			}
			st, err := direct(node, e)
			if err != nil {
				CloseServers(out)
				return nil, warnings, err
			}
			out = append(out, Server{
				ID: e.ID, Nickname: e.Nickname, Addr: "s3://" + e.S3.Bucket + "/" + e.S3.Prefix,
				PermutationSeed: e.PermutationSeed, LeaseSeed: e.LeaseSeed,
				Storage: st,
			})
			continue
		}
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
		return nil, warnings, fmt.Errorf("%s lists no usable server", node.Path("private", "servers.yaml"))
	}
	return out, warnings, nil
}

// New makes a Client over servers for a node directory: its encoding
// parameters and secrets (created as Tahoe does when missing). The client
// owns the servers from then on, even when New fails; release them with
// Close.
func New(node *nodedir.Node, servers []Server) (*Client, error) {
	enc, err := node.Encoding()
	if err != nil {
		CloseServers(servers)
		return nil, err
	}
	conv, err := node.ConvergenceSecret()
	if err != nil {
		CloseServers(servers)
		return nil, err
	}
	lease, err := node.LeaseSecret()
	if err != nil {
		CloseServers(servers)
		return nil, err
	}
	return &Client{Servers: servers, Encoding: enc, Convergence: conv, LeaseSecret: lease}, nil
}

// Close releases the client's servers.
func (c *Client) Close() { CloseServers(c.Servers) }

// CloseServers releases servers.
func CloseServers(servers []Server) {
	for _, s := range servers {
		_ = s.Storage.Close()
	}
}
