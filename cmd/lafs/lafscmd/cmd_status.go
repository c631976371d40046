package lafscmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/internal/progress"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/urfave/cli/v2"
	"strings"
)

// statusOptions are status's switches.
type statusOptions struct {
	JSON    bool
	Timeout time.Duration
	Bytes   bool
	Wide    bool
}

func newStatusCommand(f *command.Factory) *cli.Command {
	var o statusOptions
	var out output
	return &cli.Command{
		Name:  "status",
		Usage: "show the grid: each storage server's reachability, space and version, and the encoding",
		Description: "Asks every configured storage server for its version message, all at once.\n" +
			"Exit status: 0 when the grid could be asked (even if servers are down), 1 on errors, 2 usage.",
		Flags: []cli.Flag{
			jsonFlag(&out, "print the report as JSON"),
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "how long to wait for each server, e.g. 10s or 1m", Destination: &o.Timeout},
			&cli.BoolFlag{Name: "bytes", Usage: "exact space in bytes", Destination: &o.Bytes},
			&cli.BoolFlag{Name: "wide", Usage: "do not cut server IDs to fit the terminal", Destination: &o.Wide},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() > 0 {
				return command.Usagef("lafs status takes no arguments, got %d", cCtx.NArg())
			}
			var err error
			if o.JSON, err = asJSON(f, out); err != nil {
				return err
			}
			return runStatus(cCtx.Context, f, o)
		},
	}
}

type serverStatus struct {
	Nickname       string  `json:"nickname"`
	ID             string  `json:"id"`
	Address        string  `json:"address"`
	Reachable      bool    `json:"reachable"`
	AvailableSpace *uint64 `json:"available_space"`
	Version        *string `json:"version"`
	Error          *string `json:"error"`
}

type statusReport struct {
	NodeDirectory string           `json:"node_directory"`
	Grid          string           `json:"grid"`
	Encoding      nodedir.Encoding `json:"encoding"`
	Servers       []serverStatus   `json:"servers"`
	Reachable     int              `json:"reachable"`
}

func runStatus(ctx context.Context, f *command.Factory, o statusOptions) error {
	node, err := f.Node()
	if err != nil {
		return err
	}
	enc, err := node.Encoding()
	if err != nil {
		return err
	}
	store, err := f.Store()
	if errors.Is(err, lafs.ErrNoGrid) {
		// No grid is a state to report, not a failure of status (B28).
		report := statusReport{NodeDirectory: node.Dir, Grid: "none", Encoding: enc, Servers: []serverStatus{}}
		fmt.Fprintf(f.IO.Err, "hint: %s\n", f.NoGridHint)
		if o.JSON {
			return command.WriteJSONCompact(f.IO.Out, report)
		}
		_, err := fmt.Fprintf(f.IO.Out, "node directory: %s (no grid)\nservers: 0 configured\n", node.Dir)
		return err
	}
	if err != nil {
		return err
	}
	rep, ok := store.(filestore.Reporter)
	if !ok {
		return fmt.Errorf("this grid cannot report its servers")
	}
	gs, err := rep.GridStatus(ctx, o.Timeout)
	if err != nil {
		return err
	}
	kind := gs.Kind
	report := statusReport{NodeDirectory: node.Dir, Grid: kind, Encoding: enc, Servers: make([]serverStatus, len(gs.Servers))}
	for i, st := range gs.Servers {
		out := serverStatus{Nickname: st.Nickname, ID: st.ID, Address: st.Address, Reachable: st.Reachable, AvailableSpace: st.AvailableSpace}
		if st.Reachable {
			v := st.Version
			out.Version = &v
			report.Reachable++
		} else {
			msg := st.Error
			out.Error = &msg
		}
		report.Servers[i] = out
	}
	if o.JSON {
		return command.WriteJSONCompact(f.IO.Out, report)
	}
	fmt.Fprintf(f.IO.Out, "node directory: %s (%s grid)\n", node.Dir, kind)
	fmt.Fprintf(f.IO.Out, "encoding: %d-of-%d, happy %d, segments up to %s\n", enc.Needed, enc.Total, enc.Happy, progress.Bytes(enc.MaxSegmentSize))
	fmt.Fprintf(f.IO.Out, "servers: %d of %d reachable\n", report.Reachable, len(report.Servers))
	if report.Reachable < enc.Happy {
		fmt.Fprintf(f.IO.Err, "lafs: warning: uploads need %d reachable servers (happy); %d are\n", enc.Happy, report.Reachable)
	}
	t := newTable(f, "NICKNAME", "SERVER ID", "ADDRESS", "REACHABLE", "AVAILABLE", "VERSION")
	t.shrink, t.wide = 1, o.Wide
	for _, st := range report.Servers {
		space, ver := "-", "-"
		if st.AvailableSpace != nil {
			space = strconv.FormatUint(*st.AvailableSpace, 10)
			if f.IO.OutTTY && !o.Bytes {
				space = progress.Bytes(int64(min(*st.AvailableSpace, 1<<62)))
			}
		}
		if st.Version != nil {
			ver = *st.Version
		}
		reach := "yes"
		if st.Error != nil {
			reach = "no (" + reason(*st.Error) + ")"
		}
		t.row(safeName(st.Nickname), st.ID, st.Address, reach, space, safeName(ver))
	}
	return t.flush()
}

// reason words a server's failure in a few words for the table.
func reason(msg string) string {
	for _, r := range []struct{ in, out string }{
		{"connection refused", "connection refused"},
		{"deadline exceeded", "timeout"},
		{"Client.Timeout", "timeout"},
		{"no such host", "no such host"},
		{"certificate", "TLS certificate"},
		{"no route to host", "no route to host"},
		{"connection reset", "connection reset"},
		{"401", "unauthorized"},
		{"403", "unauthorized"},
	} {
		if strings.Contains(msg, r.in) {
			return r.out
		}
	}
	return truncate(safeName(msg), 30)
}
