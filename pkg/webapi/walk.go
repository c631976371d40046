package webapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// node is what a /uri/ URL names: an object (cap), reached directly or as
// the child name of a parent directory, or a missing terminal child
// (cap nil) that a PUT or mkdir may create.
type node struct {
	cap    *caps.Cap
	parent *caps.Cap
	name   string
	// metadata is the edge's metadata when reached through a parent.
	metadata *pyjson.Dict
	// rw and ro are the edge's write and read slots (for unknown caps).
	rw, ro string
}

// createsIntermediates says whether a request creates the directories
// missing on its path (Tahoe's should_create_intermediate_directories).
func createsIntermediates(q *request) bool {
	if q.r.Method != http.MethodPut && q.r.Method != http.MethodPost {
		return false
	}
	switch q.t() {
	case "delete", "rename", "rename-form", "check":
		return false
	}
	return true
}

// terminalCreates are the requests for which a missing last name is not
// an error: the handler creates it.
func terminalCreates(q *request) bool {
	m, t := q.r.Method, q.t()
	switch {
	case m == http.MethodPost && (t == "mkdir" || t == "mkdir-with-children" || t == "mkdir-immutable"):
		return true
	case m == http.MethodPut && (t == "mkdir" || t == "" || t == "uri"):
		return true
	}
	return false
}

// parseURLCap reads the cap segment of a /uri/ URL. A string that is no
// valid cap is, as in Tahoe, an object of unknown kind (which can only be
// asked for t=json and t=info).
func parseURLCap(s string) (*caps.Cap, error) {
	c, err := caps.Parse(s)
	if err != nil {
		return &caps.Cap{Kind: caps.KindUnknown, Raw: s}, nil
	}
	return c, nil
}

// walk follows segs (child names) from root. A trailing empty segment
// (a URL ending in "/") names the directory itself.
func (s *Server) walk(q *request, root *caps.Cap, segs []string) (*node, error) {
	ctx := q.r.Context()
	cur := &node{cap: root}
	trailing := len(segs) > 0 && segs[len(segs)-1] == ""
	if trailing {
		segs = segs[:len(segs)-1]
	}
	create := createsIntermediates(q)
	for i, name := range segs {
		if name == "" {
			return nil, &webError{code: http.StatusBadRequest, text: textEmpty, page: true}
		}
		terminal := i == len(segs)-1 && !trailing
		if cur.cap.IsUnknown() {
			return nil, notFound()
		}
		if !cur.cap.IsDirectory() {
			if create {
				return nil, titledPage(http.StatusConflict, "Cannot create directory "+quoteOutput(name, true)+", because its parent is a file, not a directory")
			}
			return nil, titledPage(http.StatusBadRequest, "Files have no children named "+quoteOutput(name, true))
		}
		entries, err := s.store.ReadDir(ctx, cur.cap)
		if err != nil {
			return nil, asPage(err)
		}
		want := dirnode.Normalize(name)
		var found *dirnode.Entry
		for j := range entries {
			if entries[j].Name == want {
				found = &entries[j]
				break
			}
		}
		if found == nil {
			switch {
			case !terminal && create:
				dir, err := s.mkdirChild(ctx, cur.cap, want, filestore.MkdirOptions{Format: s.o.MutableFormat}, overwriteAll)
				if err != nil {
					return nil, asPage(err)
				}
				cur = &node{cap: dir, parent: cur.cap, name: want}
				continue
			case terminal && terminalCreates(q):
				return &node{parent: cur.cap, name: want}, nil
			}
			return nil, asPage(noSuchChild(want))
		}
		child, err := entryCap(*found)
		if err != nil {
			return nil, asPage(err)
		}
		if !terminal && create && !child.IsDirectory() {
			return nil, titledPage(http.StatusConflict, "Unable to create directory "+quoteOutput(want, true)+": a file was in the way")
		}
		md, _ := parseMetadata(found.Metadata)
		cur = &node{cap: child, parent: cur.cap, name: want, metadata: md, rw: found.RWCap, ro: found.ROCap}
	}
	return cur, nil
}

// titledPage is the error page Tahoe builds as ErrorPage(code, text, "no
// details"): the text is the title.
func titledPage(code int, text string) *webError {
	return &webError{code: code, page: true, brief: text, text: "no details"}
}

// entryCap parses the strongest cap of a directory entry.
func entryCap(e dirnode.Entry) (*caps.Cap, error) {
	c, err := caps.Parse(e.Cap())
	if err != nil {
		return &caps.Cap{Kind: caps.KindUnknown, Raw: e.Cap()}, nil
	}
	return c, nil
}

// parseMetadata reads an edge's stored metadata (an empty object when it
// is absent or not an object).
func parseMetadata(raw []byte) (*pyjson.Dict, error) {
	if len(raw) == 0 {
		return pyjson.NewDict(), nil
	}
	v, err := pyjson.Parse(raw)
	if err != nil {
		return pyjson.NewDict(), err
	}
	o, ok := v.(*pyjson.Dict)
	if !ok {
		return pyjson.NewDict(), nil
	}
	return o, nil
}

// serveURI handles /uri and everything below it.
func (s *Server) serveURI(q *request, segs []string) error {
	if len(segs) == 0 {
		return s.serveUnlinked(q)
	}
	if segs[0] == "" {
		// /uri/ and /uri//CAP/...: Tahoe redirects to the path without its
		// empty segments.
		target := "/" + q.prefix
		for _, seg := range segs {
			if seg != "" {
				target += "/" + url.PathEscape(seg)
			}
		}
		if q.r.URL.RawQuery != "" {
			target += "?" + q.r.URL.RawQuery
		}
		redirect(q, target, false)
		return nil
	}
	root, err := parseURLCap(segs[0])
	if err != nil {
		return asPage(err)
	}
	n, err := s.walk(q, root, segs[1:])
	if err != nil {
		return err
	}
	return s.serveNode(q, n)
}

// serveNode dispatches on what the URL named.
func (s *Server) serveNode(q *request, n *node) error {
	switch {
	case n.cap == nil:
		return s.servePlaceholder(q, n)
	case n.cap.IsDirectory():
		return s.serveDir(q, n)
	case n.cap.IsUnknown():
		return s.serveUnknown(q, n)
	}
	return s.serveFile(q, n)
}

// ctxOf is the request's context.
func ctxOf(q *request) context.Context { return q.r.Context() }
