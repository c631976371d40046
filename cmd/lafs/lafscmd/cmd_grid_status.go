package lafscmd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/devgrid"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/node"
	"github.com/urfave/cli/v2"
)

// gridNodeStatus is one storage node of a dev grid, as 'lafs grid status'
// reports it (a JSON Lines object each).
type gridNodeStatus struct {
	Index         int    `json:"index"`
	Name          string `json:"name"`
	NodeDirectory string `json:"node_directory"`
	Running       bool   `json:"running"`
	PID           *int   `json:"pid"`
	Address       string `json:"address"`
	ID            string `json:"id"`
	Backend       string `json:"backend"`
	Shares        *int   `json:"shares"`
	Used          *int64 `json:"used"`
}

func newGridStatusCommand(f *command.Factory) *cli.Command {
	var out output
	var exact, wide bool
	return &cli.Command{
		Name:      "status",
		Usage:     "which storage nodes of a grid are running: address, id, shares held and space used",
		ArgsUsage: "DIR",
		Description: "Reads DIR's node directories (nothing is asked over the network): a node runs when the process\n" +
			"in its node.pid is alive; the id is its server id (v0-..., as in servers.yaml; the NURL with its\n" +
			"secret is not shown); shares and space are counted on disk (null for an S3 backend).\n" +
			"On a terminal, a table; piped, tab-separated rows; --json, one object per node.\n" +
			"Exit status: 0 when DIR holds a grid (whatever runs), 1 when it does not, 2 usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "bytes", Usage: "space used in bytes", Destination: &exact},
			&cli.BoolFlag{Name: "wide", Usage: "do not cut server ids to fit the terminal", Destination: &wide},
			jsonFlag(&out, "print one {index, name, running, pid, address, id, backend, shares, used} per node"),
		},
		Action: func(cCtx *cli.Context) error {
			if err := command.ExactArgs(cCtx, 1, "DIR"); err != nil {
				return err
			}
			j, err := asJSON(f, out)
			if err != nil {
				return err
			}
			return runGridStatus(f, cCtx.Args().First(), j, exact, wide)
		},
	}
}

func runGridStatus(f *command.Factory, arg string, asJSON, exact, wide bool) error {
	dir, err := filepath.Abs(arg)
	if err != nil {
		return err
	}
	nodes, err := devgrid.Nodes(dir)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return command.WithHint(fmt.Errorf("%s holds no grid", arg), "make one with 'lafs grid up --servers N "+arg+"'")
	}
	var sts []gridNodeStatus
	running := 0
	for _, nd := range nodes {
		st, err := gridNode(nd)
		if err != nil {
			return err
		}
		if st.Running {
			running++
		}
		sts = append(sts, st)
	}
	if asJSON {
		for _, st := range sts {
			if err := command.WriteJSONCompact(f.IO.Out, st); err != nil {
				return err
			}
		}
		return nil
	}
	t := newTable(f, "#", "NAME", "STATE", "PID", "ADDRESS", "SHARES", "USED", "ID")
	t.shrink, t.wide = 7, wide
	for _, st := range sts {
		state, pid := "stopped", "-"
		if st.Running {
			state, pid = "running", strconv.Itoa(*st.PID)
		}
		shares, used := "-", "-"
		if st.Shares != nil {
			shares = strconv.Itoa(*st.Shares)
			used = strconv.FormatInt(*st.Used, 10)
			if !exact && f.IO.OutTTY {
				used = progress.Bytes(*st.Used)
			}
		}
		t.row(strconv.Itoa(st.Index), safeName(st.Name), state, pid, safeName(st.Address), shares, used, safeName(st.ID))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if f.IO.OutTTY {
		_, err = fmt.Fprintf(f.IO.Out, "%d of %d storage nodes running; client node directory: %s\n", running, len(sts), devgrid.ClientDir(dir))
	}
	return err
}

// gridNode reads one storage node's directory.
func gridNode(nd string) (gridNodeStatus, error) {
	base := filepath.Base(nd)
	idx, _ := strconv.Atoi(strings.TrimPrefix(base, "storage-"))
	st := gridNodeStatus{Index: idx, Name: base, NodeDirectory: nd, Backend: node.BackendDisk}
	cfg, err := node.ReadNodeConfig(nd)
	if err != nil {
		return st, fmt.Errorf("%s: %w", nd, err)
	}
	if cfg.Nickname != "" {
		st.Name = cfg.Nickname
	}
	st.Address = strings.TrimPrefix(cfg.TubLocation, "tcp:")
	if cfg.Backend != "" {
		st.Backend = cfg.Backend
	}
	if pub, err := os.ReadFile(filepath.Join(nd, "node.pubkey")); err == nil {
		st.ID = strings.TrimPrefix(strings.TrimSpace(string(pub)), "pub-")
	}
	if pid, ok := devgrid.Running(nd); ok {
		st.Running, st.PID = true, &pid
	}
	if st.Backend == node.BackendDisk {
		n, used := countShares(filepath.Join(cfg.StorageDir, "shares"))
		st.Shares, st.Used = &n, &used
	}
	return st, nil
}

// countShares counts the share files under a disk store's shares
// directory (PREFIX/STORAGEINDEX/SHNUM; uploads still in "incoming" are
// not shares yet) and their bytes.
func countShares(dir string) (n int, used int64) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "incoming" && filepath.Dir(p) == dir {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if _, err := strconv.Atoi(d.Name()); err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n++
			used += info.Size()
		}
		return nil
	})
	return n, used
}
