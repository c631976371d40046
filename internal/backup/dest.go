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
// Through a node's web API it makes the requests Tahoe's own backup makes,
// naming places by path so the node walks them: `GET TO/Archives?t=json`,
// `POST TO/Archives?t=mkdir` (the node's default format, missing
// directories on the way made) only when that is 404, and at the end one
// `PUT TO/Archives/<time>?t=uri` and one `PUT TO/Latest?t=uri`. Any other
// store walks and makes the directories itself and links into the caps it
// found.
func openDest(ctx context.Context, s filestore.Store, to filestore.Path) (dest, error) {
	if g, ok := s.(*gateway.Store); ok {
		d := &pathDest{g: g, to: to}
		archives := d.rel("Archives")
		if _, err := g.Stat(ctx, to.Root, archives); err != nil {
			if !errors.Is(err, filestore.ErrNotFound) {
				return nil, err
			}
			if _, err := g.MkdirPath(ctx, to.Root, archives, filestore.FormatDefault); err != nil {
				return nil, err
			}
		}
		return d, nil
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

// pathDest links by path below TO, through the web API (one request each).
type pathDest struct {
	g  *gateway.Store
	to filestore.Path
}

func (d *pathDest) rel(name string) string {
	return strings.Trim(d.to.Rel+"/"+name, "/")
}

func (d *pathDest) link(ctx context.Context, rel string, c *caps.Cap) error {
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
