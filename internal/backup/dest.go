package backup

import (
	"context"
	"errors"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// dest is where a snapshot is linked: TO/Archives/<time> and TO/Latest.
type dest interface {
	// link links c at rel below TO ("Archives/<time>", "Latest"),
	// replacing what is there.
	link(ctx context.Context, rel string, c *caps.Cap) error
}

// openDest makes sure TO/Archives exists and returns where to link.
//
// Through a node's web API it makes as many requests as Tahoe's own
// backup, each no dearer: `GET TO?t=json` (Tahoe looks at TO/Archives,
// whose listing grows with every snapshot; TO's own listing gives the
// caps of TO and Archives), `POST TO/Archives?t=mkdir` (the node's default
// format, missing directories on the way made) only when Archives is
// missing, and at the end `PUT $ARCHIVES/<time>?t=uri` and `PUT
// $TO/Latest?t=uri`, into the caps found, so the node need not walk the
// path from the root again (by path when a cap is not known). Any other
// store walks and makes the directories itself.
func openDest(ctx context.Context, s filestore.Store, to filestore.Path) (dest, error) {
	if g, ok := s.(*gateway.Store); ok {
		return openGatewayDest(ctx, g, to)
	}
	toDir, err := filestore.MkdirAll(ctx, s, to, filestore.FormatSDMF)
	if err != nil {
		return nil, err
	}
	archives, err := filestore.MkdirAll(ctx, s, filestore.Path{Root: toDir, Rel: "Archives"}, filestore.FormatSDMF)
	if err != nil {
		return nil, err
	}
	return &capDest{s: s, to: toDir, archives: archives}, nil
}

func openGatewayDest(ctx context.Context, g *gateway.Store, to filestore.Path) (dest, error) {
	d := &pathDest{g: g, to: to}
	n, err := g.Stat(ctx, to.Root, to.Rel)
	if err != nil && !errors.Is(err, filestore.ErrNotFound) {
		return nil, err
	}
	found := false
	if err == nil && n.Type == gateway.TypeDir {
		d.toCap = writableDir(n.RWURI)
		for _, c := range n.Children {
			if c.Name == "Archives" {
				found, d.archives = true, writableDir(c.Node.RWURI)
				break
			}
		}
	}
	if !found {
		// Missing (or TO is no directory: the node says what is wrong).
		if d.archives, err = g.MkdirPath(ctx, to.Root, d.rel("Archives"), filestore.FormatDefault); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// writableDir parses a directory write cap from a node's JSON; nil when
// it is none (linking then goes by path and the node answers).
func writableDir(s string) *caps.Cap {
	c, err := caps.Parse(s)
	if err != nil || !c.IsDirectory() || !c.IsMutable() || c.IsReadOnly() {
		return nil
	}
	return c
}

// pathDest links through a node's web API, one request each: into the
// caps of TO and Archives when known, else by path below TO's root.
type pathDest struct {
	g        *gateway.Store
	to       filestore.Path
	toCap    *caps.Cap
	archives *caps.Cap
}

func (d *pathDest) rel(name string) string {
	return strings.Trim(d.to.Rel+"/"+name, "/")
}

func (d *pathDest) link(ctx context.Context, rel string, c *caps.Cap) error {
	if name, ok := strings.CutPrefix(rel, "Archives/"); ok && d.archives != nil {
		return d.g.Link(ctx, d.archives, name, c, true)
	}
	if !strings.Contains(rel, "/") && d.toCap != nil {
		return d.g.Link(ctx, d.toCap, rel, c, true)
	}
	return d.g.LinkPath(ctx, d.to.Root, d.rel(rel), c, gateway.ReplaceAlways)
}

// capDest links into the directories openDest found or made.
type capDest struct {
	s            filestore.Store
	to, archives *caps.Cap
}

func (d *capDest) link(ctx context.Context, rel string, c *caps.Cap) error {
	dir := d.to
	if name, ok := strings.CutPrefix(rel, "Archives/"); ok {
		dir, rel = d.archives, name
	}
	return d.s.Link(ctx, dir, rel, c, true)
}
