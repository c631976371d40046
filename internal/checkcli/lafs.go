package checkcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/health"
	"github.com/olekukonko/tablewriter"
)

// LafsOptions are `lafs check`'s flags.
type LafsOptions struct {
	Verify, Repair, Recursive, AddLease bool
	// JSON prints one JSON object per line (per object) instead of a table.
	JSON bool
	// OnObject, when set, is told of each object checked (for a progress
	// display on deep runs).
	OnObject func()
}

// LafsRow is one object of `lafs check`, and its --json line.
type LafsRow struct {
	Path           string `json:"path"`
	Cap            string `json:"cap"`
	Type           string `json:"type"`
	Healthy        bool   `json:"healthy"`
	Recoverable    bool   `json:"recoverable"`
	SharesGood     int    `json:"shares_good"`
	SharesExpected int    `json:"shares_expected"`
	Happiness      int    `json:"happiness"`
	Summary        string `json:"summary"`
	Repaired       bool   `json:"repaired"`
	// CorruptShares are "server/share" names of shares found corrupt.
	CorruptShares []string `json:"corrupt_shares"`
	RepairError   string   `json:"repair_error,omitempty"`
}

// unhealthyAfter reports whether the row is still unhealthy.
func (r LafsRow) unhealthyAfter() bool { return !r.Healthy && !r.Repaired }

func rowFor(path string, n deep.Node, pre *health.Results, rep *health.CheckAndRepair) LafsRow {
	row := LafsRow{Path: path, Cap: n.Cap.String(), Type: n.Type, CorruptShares: []string{}}
	if rep != nil {
		pre = rep.Pre
		row.Repaired = rep.RepairAttempted && rep.RepairSuccessful
		row.RepairError = rep.RepairError
	}
	if pre == nil || pre.IsLiteral() {
		row.Healthy, row.Recoverable, row.Summary = true, true, "healthy (literal)"
		return row
	}
	row.Healthy, row.Recoverable, row.Summary = pre.Healthy, pre.Recoverable, pre.Summary
	row.SharesGood, row.SharesExpected, row.Happiness = pre.SharesGood, pre.SharesExpected, pre.Happiness
	for _, l := range pre.CorruptShares {
		row.CorruptShares = append(row.CorruptShares, fmt.Sprintf("%s/%d", l.Server, l.Share))
	}
	return row
}

// LafsCheck checks each path (with Recursive, everything under it) and
// prints a table for people, or JSON lines. It returns ErrUnhealthy when
// anything is unhealthy and was not repaired.
func LafsCheck(ctx context.Context, e Env, paths []string, o LafsOptions) error {
	ck, err := e.checker()
	if err != nil {
		return err
	}
	var rows []LafsRow
	unhealthy, total := 0, 0
	emit := func(r LafsRow) error {
		total++
		if o.OnObject != nil {
			o.OnObject()
		}
		if o.JSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.Stdout, "%s\n", b)
			return err
		}
		rows = append(rows, r)
		return nil
	}
	hopts := health.CheckOptions{Verify: o.Verify, AddLease: o.AddLease}
	for _, arg := range paths {
		root, err := e.resolve(ctx, arg)
		if err != nil {
			return err
		}
		if o.Recursive && root.IsDirectory() {
			_, err := deep.Check(ctx, e.Store, ck, root, deep.CheckOptions{CheckOptions: hopts, Repair: o.Repair}, func(c deep.Checked) error {
				if c.Node.Type == deep.TypeUnknown {
					return nil
				}
				r := rowFor(joinPath(arg, c.Node.Path), c.Node, c.Check, c.Repair)
				if r.unhealthyAfter() {
					unhealthy++
				}
				return emit(r)
			})
			if err != nil {
				return err
			}
			continue
		}
		n := deep.Node{Cap: root, Type: nodeType(root)}
		var r LafsRow
		if o.Repair {
			rep, err := ck.CheckAndRepair(ctx, root, hopts)
			if err != nil {
				return fmt.Errorf("%s: %w", arg, err)
			}
			r = rowFor(arg, n, nil, rep)
		} else {
			res, err := ck.Check(ctx, root, hopts)
			if err != nil {
				return fmt.Errorf("%s: %w", arg, err)
			}
			r = rowFor(arg, n, res, nil)
		}
		if r.unhealthyAfter() {
			unhealthy++
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	if !o.JSON {
		if err := writeTable(e.Stdout, rows, o.Repair); err != nil {
			return err
		}
	}
	if unhealthy > 0 {
		return fmt.Errorf("%w: %d of %d objects", ErrUnhealthy, unhealthy, total)
	}
	return nil
}

func nodeType(c *caps.Cap) string {
	if c.IsDirectory() {
		return deep.TypeDirectory
	}
	return deep.TypeFile
}

func joinPath(arg string, sub []string) string {
	if len(sub) == 0 {
		return arg
	}
	sep := "/"
	if strings.HasSuffix(arg, "/") || strings.HasSuffix(arg, ":") {
		sep = ""
	}
	return arg + sep + strings.Join(sub, "/")
}

func writeTable(w io.Writer, rows []LafsRow, repairing bool) error {
	t := tablewriter.NewWriter(w)
	header := []string{"Path", "Healthy", "Shares", "Happiness"}
	if repairing {
		header = append(header, "Repaired")
	}
	t.Header(header)
	for _, r := range rows {
		healthy, shares, happy := "yes", fmt.Sprintf("%d/%d", r.SharesGood, r.SharesExpected), fmt.Sprint(r.Happiness)
		if !r.Healthy {
			healthy = "no"
			if !r.Recoverable {
				healthy = "no (unrecoverable)"
			}
		}
		if r.SharesExpected == 0 {
			shares, happy = "-", "-"
		}
		name := r.Path
		if r.Type == deep.TypeDirectory && !strings.HasSuffix(name, "/") && !strings.HasSuffix(name, ":") {
			name += "/"
		}
		line := []string{name, healthy, shares, happy}
		if repairing {
			switch {
			case r.Repaired:
				line = append(line, "yes")
			case r.Healthy:
				line = append(line, "-")
			default:
				line = append(line, "failed")
			}
		}
		if err := t.Append(line); err != nil {
			return err
		}
	}
	return t.Render()
}
