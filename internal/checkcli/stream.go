package checkcli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/health"
)

// DeepStreamer is a store whose node runs the deep operations itself (a
// gateway to a node's web API): the commands then ask for its streams, as
// Tahoe's own commands do, instead of walking the tree from here.
type DeepStreamer interface {
	StreamDeepCheck(ctx context.Context, root *caps.Cap, o health.CheckOptions, repair bool, line func([]byte) error) error
	StreamManifest(ctx context.Context, root *caps.Cap, line func([]byte) error) error
	DeepStats(ctx context.Context, root *caps.Cap) ([]byte, error)
}

// errStreamFailed is an "ERROR:" line in a node's stream.
var errStreamFailed = errors.New("the node reported an error")

// streamLines hands each JSON line of a node's stream to fn; an "ERROR:"
// line and everything after it go to stderr, and the stream fails.
func streamLines(e Env, run func(line func([]byte) error) error, fn func([]byte) error) error {
	failed := false
	err := run(func(l []byte) error {
		if failed || bytes.HasPrefix(l, []byte("ERROR:")) {
			failed = true
			_, err := fmt.Fprintln(e.Stderr, health.QuoteOutput(string(l), false))
			return err
		}
		return fn(l)
	})
	if err == nil && failed {
		err = errStreamFailed
	}
	return err
}

func deepCheckStream(ctx context.Context, e Env, ds DeepStreamer, root *caps.Cap, o DeepCheckOptions) error {
	p := &health.DeepPrinter{W: e.Stdout, Verbose: o.Verbose, Repairing: o.Repair}
	err := streamLines(e, func(line func([]byte) error) error {
		return ds.StreamDeepCheck(ctx, root, o.health(), o.Repair, line)
	}, func(l []byte) error {
		if o.Raw {
			_, err := fmt.Fprintf(e.Stdout, "%s\n", l)
			return err
		}
		dl, err := health.ParseDeepLine(l)
		if err != nil {
			return err
		}
		return p.Add(dl)
	})
	if err != nil || o.Raw {
		return err
	}
	return p.Done()
}

func manifestStream(ctx context.Context, e Env, ds DeepStreamer, root *caps.Cap, o ManifestOptions) error {
	return streamLines(e, func(line func([]byte) error) error {
		return ds.StreamManifest(ctx, root, line)
	}, func(l []byte) error {
		if o.Raw {
			_, err := fmt.Fprintf(e.Stdout, "%s\n", l)
			return err
		}
		n, err := deep.ParseStreamNode(l)
		if err != nil {
			return err
		}
		return deep.WriteManifestLine(e.Stdout, n, o.Field)
	})
}

func statsFromNode(ctx context.Context, e Env, ds DeepStreamer, root *caps.Cap, raw bool) error {
	body, err := ds.DeepStats(ctx, root)
	if err != nil {
		return err
	}
	if raw {
		_, err := io.WriteString(e.Stdout, string(body)+"\n")
		return err
	}
	s, err := deep.ParseStats(body)
	if err != nil {
		return err
	}
	return deep.WriteStats(e.Stdout, s)
}
