// Package checkcli is the work behind the command lines that keep files
// alive: `tahoe check`, `tahoe deep-check`, `tahoe manifest`, `tahoe stats`
// and `lafs check`. Each run function takes the store, the node's aliases
// and the output streams, prints what Tahoe's command (or, for lafs, the
// porcelain) prints, and returns an error for the command layer to report.
//
// It parses no flags and opens no node directory: cmd/tahoe and cmd/lafs
// do that and call in here. Checking itself is pkg/client's (through
// deep.Checker), walking pkg/deep's, formatting pkg/health's.
package checkcli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// Env is what a run needs.
type Env struct {
	Store   filestore.Store
	Aliases map[string]string
	Stdout  io.Writer
	Stderr  io.Writer
}

// ErrCannotCheck means the store has no checker (it cannot look at shares).
var ErrCannotCheck = errors.New("this file store cannot check files")

// ErrUnhealthy means something was left unhealthy (lafs check's exit 1).
var ErrUnhealthy = errors.New("unhealthy and not repaired")

func (e Env) checker() (deep.Checker, error) {
	if ck, ok := e.Store.(deep.Checker); ok {
		return ck, nil
	}
	return nil, ErrCannotCheck
}

// resolve turns a location (an alias path, a cap, or "" for the default
// alias's root) into the cap it names.
func (e Env) resolve(ctx context.Context, where string) (*caps.Cap, error) {
	p, err := filestore.ParsePath(e.Aliases, where)
	if err != nil {
		return nil, err
	}
	return filestore.Lookup(ctx, e.Store, p)
}

// CheckOptions are `tahoe check`'s flags.
type CheckOptions struct {
	Verify, Repair, AddLease, Raw bool
}

func (o CheckOptions) health() health.CheckOptions {
	return health.CheckOptions{Verify: o.Verify, AddLease: o.AddLease}
}

// TahoeCheck checks each location in turn ("" when none is given: the
// default alias) as `tahoe check` does, stopping at the first error. With
// Raw it prints the web API's JSON instead of the summary.
func TahoeCheck(ctx context.Context, e Env, locations []string, o CheckOptions) error {
	ck, err := e.checker()
	if err != nil {
		return err
	}
	if len(locations) == 0 {
		locations = []string{""}
	}
	for _, where := range locations {
		c, err := e.resolve(ctx, where)
		if err != nil {
			return err
		}
		if o.Repair {
			r, err := ck.CheckAndRepair(ctx, c, o.health())
			if err != nil {
				return err
			}
			switch {
			case o.Raw && r.IsLiteral():
				// A node answers a literal object's plain check results.
				_, err = io.WriteString(e.Stdout, health.Literal().JSON()+"\n")
			case o.Raw:
				_, err = io.WriteString(e.Stdout, r.JSON()+"\n")
			default:
				err = health.WriteCheckAndRepair(e.Stdout, r)
			}
			if err != nil {
				return err
			}
			continue
		}
		r, err := ck.Check(ctx, c, o.health())
		if err != nil {
			return err
		}
		if o.Raw {
			_, err = io.WriteString(e.Stdout, r.JSON()+"\n")
		} else {
			err = health.WriteCheck(e.Stdout, r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DeepCheckOptions are `tahoe deep-check`'s flags.
type DeepCheckOptions struct {
	CheckOptions
	Verbose bool
}

// TahoeDeepCheck checks everything under each location as `tahoe
// deep-check` does: a line per object with Verbose, corrupt shares and
// repairs always, a progress line every 100 objects and the totals; with
// Raw the t=stream-deep-check lines instead.
func TahoeDeepCheck(ctx context.Context, e Env, locations []string, o DeepCheckOptions) error {
	ck, err := e.checker()
	if err != nil {
		return err
	}
	if len(locations) == 0 {
		locations = []string{""}
	}
	for _, where := range locations {
		root, err := e.resolve(ctx, where)
		if err != nil {
			return err
		}
		if ds, ok := e.Store.(DeepStreamer); ok {
			if err := deepCheckStream(ctx, e, ds, root, o); err != nil {
				return err
			}
			continue
		}
		p := &health.DeepPrinter{W: e.Stdout, Verbose: o.Verbose, Repairing: o.Repair}
		report, err := deep.Check(ctx, e.Store, ck, root, deep.CheckOptions{CheckOptions: o.health(), Repair: o.Repair}, func(c deep.Checked) error {
			if o.Raw {
				_, err := io.WriteString(e.Stdout, c.Line()+"\n")
				return err
			}
			return p.Add(c.DeepLine())
		})
		if err != nil {
			if o.Raw {
				// Tahoe's stream ends with an ERROR: line.
				fmt.Fprintf(e.Stdout, "ERROR: %v\n", err)
			}
			return err
		}
		if o.Raw {
			if _, err := io.WriteString(e.Stdout, deep.StatsLine(&report.Stats)+"\n"); err != nil {
				return err
			}
			continue
		}
		if err := p.Done(); err != nil {
			return err
		}
	}
	return nil
}

// ManifestOptions are `tahoe manifest`'s flags.
type ManifestOptions struct {
	Field deep.ManifestField
	Raw   bool
}

// TahoeManifest lists everything under where as `tahoe manifest` does:
// "CAP PATH" lines, or only storage indexes, verify caps or repair caps;
// with Raw the t=stream-manifest lines.
func TahoeManifest(ctx context.Context, e Env, where string, o ManifestOptions) error {
	root, err := e.resolve(ctx, where)
	if err != nil {
		return err
	}
	if ds, ok := e.Store.(DeepStreamer); ok {
		return manifestStream(ctx, e, ds, root, o)
	}
	s := &deep.Stats{}
	err = deep.Walk(ctx, e.Store, root, deep.Options{}, func(_ context.Context, n deep.Node) error {
		s.Add(n)
		if o.Raw {
			_, err := io.WriteString(e.Stdout, deep.StreamLine(n)+"\n")
			return err
		}
		return deep.WriteManifestLine(e.Stdout, n, o.Field)
	})
	if err != nil {
		if o.Raw {
			fmt.Fprintf(e.Stdout, "ERROR: %v\n", err)
		}
		return err
	}
	if o.Raw {
		_, err = io.WriteString(e.Stdout, deep.StatsLine(s)+"\n")
	}
	return err
}

// TahoeStats prints the deep-stats of everything under where as `tahoe
// stats` does; with raw the operation's JSON.
func TahoeStats(ctx context.Context, e Env, where string, raw bool) error {
	root, err := e.resolve(ctx, where)
	if err != nil {
		return err
	}
	if ds, ok := e.Store.(DeepStreamer); ok {
		return statsFromNode(ctx, e, ds, root, raw)
	}
	s, err := deep.DeepStats(ctx, e.Store, root, deep.Options{})
	if err != nil {
		return err
	}
	if raw {
		_, err = io.WriteString(e.Stdout, s.JSON(true)+"\n")
		return err
	}
	return deep.WriteStats(e.Stdout, s)
}
