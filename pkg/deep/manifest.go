package deep

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// Manifest walks the tree under root and returns every object in walk
// order, with the tree's stats.
func Manifest(ctx context.Context, st filestore.Store, root *caps.Cap, o Options) ([]Node, *Stats, error) {
	var nodes []Node
	s := &Stats{}
	err := Walk(ctx, st, root, o, func(_ context.Context, n Node) error {
		nodes = append(nodes, n)
		s.Add(n)
		return nil
	})
	return nodes, s, err
}

// capString is the cap as Tahoe's get_uri gives it.
func capString(n Node) string {
	if n.Cap == nil {
		return ""
	}
	return n.Cap.String()
}

// pathValue is a path as a JSON list.
func pathValue(p []string) []string {
	if p == nil {
		return []string{}
	}
	return p
}

// NodeObject is the JSON object Tahoe streams for one object in
// t=stream-manifest (and, with the check results added, in
// t=stream-deep-check): path, cap, type, verifycap, repaircap and
// storage-index.
func NodeObject(n Node) health.Object {
	return health.Object{
		{Key: "path", Value: pathValue(n.Path)},
		{Key: "cap", Value: capString(n)},
		{Key: "type", Value: n.Type},
		{Key: "verifycap", Value: n.VerifyCap()},
		{Key: "repaircap", Value: n.RepairCap()},
		{Key: "storage-index", Value: n.StorageIndex()},
	}
}

// StreamLine is one line of t=stream-manifest for n (no newline).
func StreamLine(n Node) string { return health.PyJSON(NodeObject(n), -1) }

// StatsLine is the last line of t=stream-manifest and
// t=stream-deep-check: {"type": "stats", "stats": {...}} (no newline).
func StatsLine(s *Stats) string {
	return health.PyJSON(health.Object{{Key: "type", Value: "stats"}, {Key: "stats", Value: s.Object()}}, -1)
}

// ManifestJSON is the body of a t=start-manifest operation's status:
// stats, finished and origin (the root's storage index), and once
// finished the manifest ([path, cap] pairs), the verify caps and the
// storage indexes (these two sorted; Tahoe gives them in set order).
func ManifestJSON(nodes []Node, s *Stats, origin string, finished bool) string {
	obj := health.Object{{Key: "stats", Value: s.Object()}, {Key: "finished", Value: finished}, {Key: "origin", Value: origin}}
	if finished {
		manifest := make([]any, len(nodes))
		vcs, sis := map[string]bool{}, map[string]bool{}
		for i, n := range nodes {
			manifest[i] = []any{pathValue(n.Path), capString(n)}
			if v := n.VerifyCap(); v != "" {
				vcs[v] = true
			}
			if si := n.StorageIndex(); si != "" {
				sis[si] = true
			}
		}
		obj = append(obj, health.Field{Key: "manifest", Value: manifest},
			health.Field{Key: "verifycaps", Value: sortedKeys(vcs)},
			health.Field{Key: "storage-index", Value: sortedKeys(sis)})
	}
	return health.PyJSON(obj, 1)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ManifestField selects what `tahoe manifest` prints per object.
type ManifestField int

// The choices of `tahoe manifest`.
const (
	ManifestCaps         ManifestField = iota // "CAP PATH" (the default)
	ManifestStorageIndex                      // --storage-index
	ManifestVerifyCap                         // --verify-cap
	ManifestRepairCap                         // --repair-cap
)

// WriteManifestLine prints one object as `tahoe manifest` does; unknown
// objects, and objects lacking the chosen field, print nothing.
func WriteManifestLine(w io.Writer, n Node, f ManifestField) error {
	if n.Type != TypeFile && n.Type != TypeDirectory {
		return nil
	}
	var line string
	switch f {
	case ManifestStorageIndex:
		line = n.StorageIndex()
	case ManifestVerifyCap:
		line = n.VerifyCap()
	case ManifestRepairCap:
		line = n.RepairCap()
	default:
		_, err := fmt.Fprintf(w, "%s %s\n", health.QuoteOutput(capString(n), false), quotePathPlain(n.Path))
		return err
	}
	if line == "" {
		return nil
	}
	_, err := fmt.Fprintln(w, health.QuoteOutput(line, false))
	return err
}

// quotePathPlain is Tahoe's quote_path(path, quotemarks=False).
func quotePathPlain(p []string) string { return health.QuotePathPlain(strings.Join(p, "/")) }
