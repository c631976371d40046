// Package devgrid runs a networked development grid on 127.0.0.1: N storage
// nodes, each a separate process serving the HTTP storage protocol (GBS)
// over TLS, and a client node directory whose private/servers.yaml lists
// them. `lafs grid up|down` is its command line; the end-to-end tests use
// it to stop and start individual nodes.
package devgrid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"go.yaml.in/yaml/v3"
)

// Options configure a new grid.
type Options struct {
	Servers              int // storage nodes
	Needed, Happy, Total int // the client's encoding parameters
	ReservedSpace        string
	Executable           string   // binary that serves a node: Executable ServeArgs... NODEDIR
	ServeArgs            []string // e.g. ["grid", "serve"]
	StartTimeout         time.Duration
	// S3, when set, puts the storage nodes' shares in S3: node i uses the
	// bucket with the key prefix S3.Prefix/storage-NN ([storage] backend =
	// cloud.s3). The bucket must exist.
	S3 *s3.Config
}

// ClientDir is the client node directory inside a grid directory.
func ClientDir(dir string) string { return filepath.Join(dir, "client") }

// NodeDir is storage node i's directory.
func NodeDir(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("storage-%02d", i)) }

func pidFile(nodeDir string) string { return filepath.Join(nodeDir, "node.pid") }

// Nodes lists the storage node directories of a grid, in index order.
func Nodes(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "storage-[0-9][0-9]"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Create makes the node directories of a new grid (nothing is started).
func Create(dir string, o Options) error {
	if o.Servers < 1 || o.Servers > 99 {
		return fmt.Errorf("a dev grid has 1 to 99 servers, not %d", o.Servers)
	}
	if nodes, _ := Nodes(dir); len(nodes) > 0 {
		return fmt.Errorf("%s already holds a grid", dir)
	}
	for i := 0; i < o.Servers; i++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		opts := node.NewNodeOptions()
		opts.Nickname = fmt.Sprintf("storage-%02d", i)
		opts.Port = fmt.Sprintf("tcp:%d:interface=127.0.0.1", port)
		opts.Location = fmt.Sprintf("tcp:127.0.0.1:%d", port)
		opts.WebPort = "none"
		opts.SharesNeeded, opts.SharesHappy, opts.SharesTotal = o.Needed, o.Happy, o.Total
		if o.S3 != nil {
			c := *o.S3
			c.Prefix = strings.TrimPrefix(c.Prefix+"/"+filepath.Base(NodeDir(dir, i)), "/")
			opts.S3 = &c
		}
		if err := node.CreateNode(NodeDir(dir, i), opts); err != nil {
			return fmt.Errorf("storage node %d: %w", i, err)
		}
		if o.ReservedSpace != "" {
			if err := setReserved(NodeDir(dir, i), o.ReservedSpace); err != nil {
				return err
			}
		}
	}
	copts := node.NewNodeOptions()
	copts.Nickname = "client"
	copts.NoStorage, copts.Listen, copts.WebPort = true, "none", "none"
	copts.SharesNeeded, copts.SharesHappy, copts.SharesTotal = o.Needed, o.Happy, o.Total
	if err := node.CreateNode(ClientDir(dir), copts); err != nil {
		return fmt.Errorf("client node: %w", err)
	}
	return nil
}

func setReserved(nodeDir, size string) error {
	path := filepath.Join(nodeDir, "tahoe.cfg")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), "reserved_space = 1G", "reserved_space = "+size, 1)
	return os.WriteFile(path, []byte(s), 0o644)
}

// Running reports the pid of node nodeDir's process when it is alive.
func Running(nodeDir string) (int, bool) {
	b, err := os.ReadFile(pidFile(nodeDir))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid)
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Start starts every stopped node (or only those in which, when given) and
// waits until each has written its servers.yaml entry, then writes the
// client's private/servers.yaml listing all nodes.
func Start(ctx context.Context, dir string, o Options, which []int) error {
	nodes, err := Nodes(dir)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("%s holds no grid: run 'lafs grid up --servers N %s' first", dir, dir)
	}
	want := map[int]bool{}
	for _, i := range which {
		if i < 0 || i >= len(nodes) {
			return fmt.Errorf("no storage node %d (the grid has %d: 0 to %d)", i, len(nodes), len(nodes)-1)
		}
		want[i] = true
	}
	timeout := o.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	var started []string
	for i, nd := range nodes {
		if len(want) > 0 && !want[i] {
			continue
		}
		if _, ok := Running(nd); ok {
			continue
		}
		entry := filepath.Join(nd, "private", "servers.yaml.entry")
		_ = os.Remove(entry)
		logf, err := os.OpenFile(filepath.Join(nd, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		args := append(append([]string{}, o.ServeArgs...), nd)
		cmd := exec.Command(o.Executable, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return fmt.Errorf("starting storage node %d: %w", i, err)
		}
		logf.Close()
		if err := nodedir.WriteFileAtomic(pidFile(nd), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
			return err
		}
		_ = cmd.Process.Release()
		started = append(started, nd)
	}
	deadline := time.Now().Add(timeout)
	for _, nd := range started {
		entry := filepath.Join(nd, "private", "servers.yaml.entry")
		for {
			if _, err := os.Stat(entry); err == nil {
				break
			}
			if _, ok := Running(nd); !ok {
				return fmt.Errorf("storage node %s exited at start; see %s", filepath.Base(nd), filepath.Join(nd, "node.log"))
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("storage node %s did not start within %s; see %s", filepath.Base(nd), timeout, filepath.Join(nd, "node.log"))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return writeClientServers(dir, nodes)
}

// writeClientServers merges every node's servers.yaml entry into the
// client's private/servers.yaml (entries of nodes never started are left
// out).
func writeClientServers(dir string, nodes []string) error {
	merged := map[string]any{}
	for _, nd := range nodes {
		b, err := os.ReadFile(filepath.Join(nd, "private", "servers.yaml.entry"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var doc struct {
			Storage map[string]any `yaml:"storage"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", nd, err)
		}
		for k, v := range doc.Storage {
			merged[k] = v
		}
	}
	out, err := yaml.Marshal(map[string]any{"storage": merged})
	if err != nil {
		return err
	}
	return nodedir.WriteFileAtomic(filepath.Join(ClientDir(dir), "private", "servers.yaml"), out, 0o600)
}

// Stop stops the running nodes (or only those in which) with SIGTERM,
// then SIGKILL after a grace period. It reports how many it stopped.
func Stop(dir string, which []int) (int, error) {
	nodes, err := Nodes(dir)
	if err != nil {
		return 0, err
	}
	if len(nodes) == 0 {
		return 0, fmt.Errorf("%s holds no grid", dir)
	}
	want := map[int]bool{}
	for _, i := range which {
		if i < 0 || i >= len(nodes) {
			return 0, fmt.Errorf("no storage node %d (the grid has %d: 0 to %d)", i, len(nodes), len(nodes)-1)
		}
		want[i] = true
	}
	stopped := 0
	for i, nd := range nodes {
		if len(want) > 0 && !want[i] {
			continue
		}
		pid, ok := Running(nd)
		if !ok {
			_ = os.Remove(pidFile(nd))
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for t := 0; t < 250 && alive(pid); t++ {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.Remove(pidFile(nd))
		stopped++
	}
	return stopped, nil
}
