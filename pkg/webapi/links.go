package webapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// This file changes directories with Tahoe's dirnode semantics: a link
// sets tahoe.linkmotime and keeps tahoe.linkcrtime of the link it
// replaces, replace=only-files keeps directories, and new metadata
// replaces the old except for the "tahoe" key (dirnode.update_metadata).

// link is one child to set.
type link struct {
	name string
	cap  *caps.Cap
	// metadata replaces the old metadata (except "tahoe") when non-nil.
	metadata *pyjson.Dict
}

// errNotWriteable is what Tahoe's dirnode raises for a change through a
// read cap or to an immutable directory: it is not among the errors
// Tahoe's web layer knows, so the node answers 500.
func errNotWriteable(dir *caps.Cap) error {
	return &webError{code: http.StatusInternalServerError, text: "NotWriteableError: the " + string(dir.Kind) + " directory is not writeable through this cap"}
}

func checkWriteable(dir *caps.Cap) error {
	if !dir.IsDirectory() {
		return badRequest("not a directory")
	}
	if dir.IsReadOnly() || !dir.IsMutable() {
		return errNotWriteable(dir)
	}
	return nil
}

// nowFloat is the time as Python's time.time().
func (s *Server) nowFloat() json.Number {
	t := s.o.Now()
	return json.Number(pyjson.Float(unixFloat(t)))
}

// unixFloat is t in seconds since the epoch, as Python's time.time().
func unixFloat(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// updateMetadata is Tahoe's dirnode.update_metadata: old is the existing
// link's metadata (nil when new), repl the metadata the request gives (nil
// to keep the old).
func updateMetadata(old, repl *pyjson.Dict, now json.Number) *pyjson.Dict {
	md := old
	if md == nil {
		md = pyjson.NewDict()
	} else {
		md = md.Copy()
	}
	oldCtime, hasCtime := md.Get("ctime")
	if repl != nil {
		n := repl.Copy()
		n.Del("tahoe")
		if t, ok := md.Get("tahoe"); ok {
			n.Set("tahoe", t)
		}
		md = n
	}
	sys := pyjson.NewDict()
	if t, ok := md.Get("tahoe"); ok {
		if to, ok := t.(*pyjson.Dict); ok {
			sys = to.Copy()
		}
	}
	if _, ok := sys.Get("linkcrtime"); !ok {
		if hasCtime {
			sys.Set("linkcrtime", oldCtime)
		} else {
			sys.Set("linkcrtime", now)
		}
	}
	sys.Set("linkmotime", now)
	md.Set("tahoe", sys)
	return md
}

// entryFor makes a directory entry for child under name.
func entryFor(name string, child *caps.Cap, md *pyjson.Dict) dirnode.Entry {
	e := dirnode.Entry{Name: name, Metadata: json.RawMessage(pyjson.Dumps(md, -1))}
	switch {
	case child.IsUnknown():
		e.ROCap = child.Raw
	default:
		if !child.IsReadOnly() {
			e.RWCap = child.String()
		}
		if ro := child.ReadOnly(); ro != nil {
			e.ROCap = ro.String()
		}
	}
	return e
}

// setChildren sets links in the writable directory dir in one change
// (Tahoe's Adder).
func (s *Server) setChildren(ctx context.Context, dir *caps.Cap, links []link, ow overwrite) error {
	if err := checkWriteable(dir); err != nil {
		return err
	}
	for i := range links {
		links[i].name = dirnode.Normalize(links[i].name)
		if err := dirnode.CheckName(links[i].name); err != nil {
			return badRequest("%v", err)
		}
	}
	unlock, err := s.locks.lock(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	if dm, ok := s.store.(filestore.DirModifier); ok {
		now := s.nowFloat()
		return dm.ModifyDir(ctx, dir, func(es []dirnode.Entry) ([]dirnode.Entry, error) {
			out := append([]dirnode.Entry(nil), es...)
			for _, l := range links {
				idx := -1
				for i := range out {
					if out[i].Name == l.name {
						idx = i
						break
					}
				}
				var old *pyjson.Dict
				if idx >= 0 {
					if err := checkOverwrite(out[idx], ow); err != nil {
						return nil, err
					}
					old, _ = parseMetadata(out[idx].Metadata)
				}
				e := entryFor(l.name, l.cap, updateMetadata(old, l.metadata, now))
				if idx >= 0 {
					out[idx] = e
				} else {
					out = append(out, e)
				}
			}
			return out, nil
		})
	}
	// A store without DirModifier: one Link per child, its own metadata.
	for _, l := range links {
		if ow == overwriteFiles {
			if c, err := s.store.Resolve(ctx, dir, l.name); err == nil && c.IsDirectory() {
				return errCode(http.StatusConflict, textExists)
			}
		}
		if err := s.store.Link(ctx, dir, l.name, l.cap, ow != overwriteNone); err != nil {
			return err
		}
	}
	return nil
}

func checkOverwrite(existing dirnode.Entry, ow overwrite) error {
	switch ow {
	case overwriteNone:
		return errCode(http.StatusConflict, textExists)
	case overwriteFiles:
		if c, err := entryCap(existing); err == nil && c.IsDirectory() {
			return errCode(http.StatusConflict, textExists)
		}
	}
	return nil
}

// setChild is Tahoe's set_node/set_uri for one child.
func (s *Server) setChild(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, md *pyjson.Dict, ow overwrite) error {
	return s.setChildren(ctx, dir, []link{{name: name, cap: child, metadata: md}}, ow)
}

// deleteChild removes name from dir and returns the cap it held.
func (s *Server) deleteChild(ctx context.Context, dir *caps.Cap, name string) (*caps.Cap, error) {
	if err := checkWriteable(dir); err != nil {
		return nil, err
	}
	name = dirnode.Normalize(name)
	unlock, err := s.locks.lock(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var removed *caps.Cap
	if dm, ok := s.store.(filestore.DirModifier); ok {
		err := dm.ModifyDir(ctx, dir, func(es []dirnode.Entry) ([]dirnode.Entry, error) {
			for i := range es {
				if es[i].Name == name {
					removed, _ = entryCap(es[i])
					return append(append([]dirnode.Entry(nil), es[:i]...), es[i+1:]...), nil
				}
			}
			return nil, noSuchChild(name)
		})
		return removed, err
	}
	c, err := s.store.Resolve(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	return c, s.store.Unlink(ctx, dir, name)
}

// mkdirChild is Tahoe's create_subdirectory: a new directory (o.Format
// FormatCHK for an immutable one) linked as name in dir.
func (s *Server) mkdirChild(ctx context.Context, dir *caps.Cap, name string, o filestore.MkdirOptions, ow overwrite) (*caps.Cap, error) {
	if err := checkWriteable(dir); err != nil {
		return nil, err
	}
	child, err := s.mkdir(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := s.setChild(ctx, dir, name, child, nil, ow); err != nil {
		return nil, err
	}
	return child, nil
}

// mkdir creates an unlinked directory.
func (s *Server) mkdir(ctx context.Context, o filestore.MkdirOptions) (*caps.Cap, error) {
	if o.Format == filestore.FormatDefault {
		o.Format = s.o.MutableFormat
	}
	c, err := s.store.Mkdir(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("creating a directory: %w", err)
	}
	s.stats.filesPublished.Add(1)
	return c, nil
}

// move is Tahoe's move_child_to: link the child of from at to/toName
// (with its metadata) and then unlink it from from.
func (s *Server) move(ctx context.Context, from *caps.Cap, fromName string, to *caps.Cap, toName string, ow overwrite) error {
	if err := checkWriteable(from); err != nil {
		return err
	}
	if err := checkWriteable(to); err != nil {
		return err
	}
	fromName, toName = dirnode.Normalize(fromName), dirnode.Normalize(toName)
	if from.String() == to.String() && fromName == toName {
		return nil // "redundant rename/relink"
	}
	es, err := s.store.ReadDir(ctx, from)
	if err != nil {
		return err
	}
	var child *caps.Cap
	var md *pyjson.Dict
	for _, e := range es {
		if e.Name == fromName {
			child, _ = entryCap(e)
			md, _ = parseMetadata(e.Metadata)
		}
	}
	if child == nil {
		return noSuchChild(fromName)
	}
	if err := s.setChild(ctx, to, toName, child, md, ow); err != nil {
		return err
	}
	_, err = s.deleteChild(ctx, from, fromName)
	return err
}
