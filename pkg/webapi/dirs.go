package webapi

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// serveDir handles a directory cap, reached directly or through a parent.
func (s *Server) serveDir(q *request, n *node) error {
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		return s.getDir(q, n)
	case http.MethodPut:
		ow, err := q.replaceArg(true)
		if err != nil {
			return err
		}
		switch t := q.t(); t {
		case "mkdir":
			return textPlain(q, n.cap.String())
		case "uri":
			if ow == overwriteNone {
				return errCode(http.StatusConflict, textExists)
			}
			if n.parent == nil {
				return badRequest("PUT to a directory")
			}
			return s.replaceWithCap(q, n, ow)
		}
		return badRequest("PUT to a directory")
	case http.MethodPost:
		return s.postDir(q, n)
	case http.MethodDelete:
		return s.deleteNode(q, n)
	}
	return methodNotAllowed(q, "GET", "HEAD", "PUT", "POST", "DELETE")
}

func (s *Server) getDir(q *request, n *node) error {
	t := q.t()
	switch t {
	case "", "json", "uri", "readonly-uri":
		if etag(q, n.cap, "DIR:", t) {
			return nil
		}
	}
	switch t {
	case "":
		return s.dirHTML(q, n)
	case "json":
		v, err := s.dirJSON(ctxOf(q), n.cap)
		if err != nil {
			code, text, _ := humanize(err)
			q.w.WriteHeader(code)
			_, _ = q.w.Write(pyjson.Dumps(pyjson.NewDict().Set("error", text), -1))
			return nil
		}
		return jsonText(q, v)
	case "info":
		return s.info(q, n)
	case "uri":
		return textPlain(q, n.cap.String())
	case "readonly-uri":
		return textPlain(q, readOnlyString(n.cap))
	case "rename-form":
		return s.renameForm(q, n)
	}
	return badRequest("GET directory: bad t=%s", t)
}

// formatName is the format= name Tahoe reports for a file cap.
func formatName(c *caps.Cap) string {
	switch c.Kind {
	case caps.KindSSK, caps.KindSSKRO, caps.KindSSKVerifier:
		return "SDMF"
	case caps.KindMDMF, caps.KindMDMFRO, caps.KindMDMFVerifier:
		return "MDMF"
	}
	return "CHK"
}

// fileNodeJSON is Tahoe's get_filenode_metadata: mutable, format and the
// size when it is known (size < 0: unknown).
func fileNodeJSON(c *caps.Cap, size int64) *pyjson.Dict {
	o := pyjson.NewDict().Set("mutable", c.IsMutable()).Set("format", formatName(c))
	if sz, ok := c.SizeKnown(); ok {
		o.Set("size", sz)
	} else if size >= 0 {
		o.Set("size", size)
	}
	return o
}

// dirJSON is a directory's t=json, in Tahoe's key order.
func (s *Server) dirJSON(ctx context.Context, dir *caps.Cap) (any, error) {
	entries, err := s.store.ReadDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	kids := pyjson.NewDict()
	for _, e := range entries {
		child, _ := entryCap(e)
		md, _ := parseMetadata(e.Metadata)
		var typ string
		var kd *pyjson.Dict
		switch {
		case child.IsUnknown():
			typ, kd = "unknown", pyjson.NewDict()
		case child.IsDirectory():
			typ, kd = "dirnode", pyjson.NewDict().Set("mutable", child.IsMutable())
		default:
			typ, kd = "filenode", fileNodeJSON(child, -1)
		}
		kd.Set("metadata", md)
		if e.RWCap != "" {
			kd.Set("rw_uri", e.RWCap)
		}
		if child.IsUnknown() {
			if e.ROCap != "" {
				kd.Set("ro_uri", e.ROCap)
			}
		} else if ro := child.ReadOnly(); ro != nil {
			kd.Set("ro_uri", ro.String())
		}
		if v := child.Verifier(); v != nil && !child.IsUnknown() {
			kd.Set("verify_uri", v.String())
		}
		kids.Set(e.Name, []any{typ, kd})
	}
	contents := pyjson.NewDict().Set("children", kids)
	contents.Set("ro_uri", readOnlyString(dir))
	if !dir.IsReadOnly() {
		contents.Set("rw_uri", dir.String())
	}
	if v := dir.Verifier(); v != nil {
		contents.Set("verify_uri", v.String())
	}
	contents.Set("mutable", dir.IsMutable())
	return []any{"dirnode", contents}, nil
}

// fileJSON is a file's t=json.
func (s *Server) fileJSON(q *request, n *node) error {
	size := int64(-1)
	if _, ok := n.cap.SizeKnown(); !ok {
		var cw countingWriter
		cw.limit = s.o.MaxMutableSize
		if err := s.store.Download(ctxOf(q), n.cap, &cw, filestore.DownloadOptions{}); err != nil {
			return err
		}
		size = cw.n
	}
	o := fileNodeJSON(n.cap, size)
	o.Set("ro_uri", readOnlyString(n.cap))
	if !n.cap.IsReadOnly() {
		o.Set("rw_uri", n.cap.String())
	}
	if v := n.cap.Verifier(); v != nil {
		o.Set("verify_uri", v.String())
	}
	if n.metadata != nil {
		o.Set("metadata", n.metadata)
	}
	return jsonText(q, []any{"filenode", o})
}

// countingWriter counts bytes, refusing more than limit.
type countingWriter struct{ n, limit int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > c.limit {
		return 0, errTooLarge(c.limit)
	}
	return len(p), nil
}

// postDir handles every POST t= on a directory.
func (s *Server) postDir(q *request, n *node) error {
	ctx := ctxOf(q)
	t := q.t()
	var res string
	switch t {
	case "mkdir", "mkdir-with-children", "mkdir-immutable":
		name, ok := q.arg("name")
		if !ok || name == "" {
			res = n.cap.String()
			break
		}
		o := filestore.MkdirOptions{}
		ow := overwriteNone
		switch t {
		case "mkdir":
			r, err := q.boolArg("replace", true)
			if err != nil {
				return err
			}
			if r {
				ow = overwriteAll
			}
			f, err := q.format(filestore.FormatDefault)
			if err != nil {
				return err
			}
			if f.Mutable() {
				o.Format = f
			}
		case "mkdir-with-children", "mkdir-immutable":
			var err error
			if o, err = s.mkdirWithChildren(q, t == "mkdir-immutable"); err != nil {
				return err
			}
		}
		c, err := s.mkdirChild(ctx, n.cap, name, o, ow)
		if err != nil {
			return err
		}
		res = c.String()
	case "upload":
		return s.postUpload(q, n)
	case "uri":
		childcap, _ := q.arg("uri")
		if childcap == "" {
			return badRequest("set-uri requires a uri")
		}
		name, _ := q.arg("name")
		if name == "" {
			return badRequest("set-uri requires a name")
		}
		ow, err := q.replaceArg(true)
		if err != nil {
			return err
		}
		child, err := childFromString(childcap)
		if err != nil {
			return err
		}
		if err := s.setChild(ctx, n.cap, name, child, nil, ow); err != nil {
			return err
		}
		res = childcap
	case "delete", "unlink":
		name, _ := q.arg("name")
		if _, err := s.deleteChild(ctx, n.cap, name); err != nil {
			return err
		}
		res = "thing unlinked"
	case "rename":
		if _, ok := q.arg("to_dir"); ok {
			return badRequest("to_dir= is not valid for rename")
		}
		if _, ok := q.arg("to_name"); !ok {
			return badRequest("to_name= is required for rename")
		}
		fallthrough
	case "relink":
		if err := s.relink(q, n); err != nil {
			return err
		}
		res = "thing moved"
	case "set_children", "set-children":
		if err := s.postSetChildren(q, n); err != nil {
			return err
		}
		res = "Okay so I did it."
	case "check":
		return s.check(q, n)
	case "start-deep-check", "start-manifest", "start-deep-size", "start-deep-stats":
		if v, _ := q.arg("ophandle"); v == "" {
			return badRequest("slow operation requires ophandle=")
		}
		return s.deepOperation(q, t, n.cap)
	case "stream-deep-check", "stream-manifest":
		return s.deepOperation(q, t, n.cap)
	default:
		return badRequest("POST to a directory with bad t=%s", t)
	}
	return s.whenDone(q, res)
}

// check is t=check. A literal object (its data inside its cap) is
// healthy by definition, as Tahoe answers; every other object goes to the
// checker (checking.go).
func (s *Server) check(q *request, n *node) error {
	if n.cap.Kind != caps.KindLIT && n.cap.Kind != caps.KindDIR2LIT {
		return s.deepOperation(q, "check", n.cap)
	}
	for _, b := range []string{"verify", "repair", "add-lease"} {
		if _, err := q.boolArg(b, false); err != nil {
			return err
		}
	}
	if strings.EqualFold(q.argOr("output", ""), "json") {
		return jsonText(q, pyjson.NewDict().Set("storage-index", "").Set("results", pyjson.NewDict().Set("healthy", true)))
	}
	return htmlPage(q, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Check Results</title></head><body>\n<h1>Literal File Check Results</h1>\n<div>Literal files are always healthy: their data is inside the cap</div>\n</body></html>\n")
}

// notImplemented is the answer of the operations whose work (check,
// repair, traversals) this node does not do yet: 501, never a wrong
// result.
func (s *Server) notImplemented(q *request, what string) error {
	return errCode(http.StatusNotImplemented, "%s is not implemented by this node yet", what)
}

// postUpload is POST t=upload on a directory: the form's file linked
// under name= or the file's own name.
func (s *Server) postUpload(q *request, n *node) error {
	if !q.hasFile {
		return badRequest("upload requires a file= form field")
	}
	name, ok := q.arg("name")
	if !ok || name == "" {
		name = q.fileName
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return badRequest("upload requires a name")
	}
	if strings.Contains(name, "/") {
		return badRequest("name= may not contain a slash")
	}
	ctx := ctxOf(q)
	entries, err := s.store.ReadDir(ctx, n.cap)
	if err != nil {
		return err
	}
	want := dirnode.Normalize(name)
	child := &node{parent: n.cap, name: want}
	for _, e := range entries {
		if e.Name == want {
			child.cap, _ = entryCap(e)
			child.metadata, _ = parseMetadata(e.Metadata)
		}
	}
	if child.cap != nil && !child.cap.IsDirectory() && !child.cap.IsUnknown() {
		return s.postFile(q, child)
	}
	if child.cap != nil && child.cap.IsDirectory() {
		return badRequest("POST to a directory with bad t=upload")
	}
	replace, err := q.boolArg("replace", true)
	if err != nil {
		return err
	}
	ow := overwriteNone
	if replace {
		ow = overwriteAll
	}
	c, err := s.formUpload(q, n.cap, want, ow)
	if err != nil {
		return err
	}
	return s.whenDone(q, c.String())
}

// relink is POST t=relink (and t=rename): move a child to another
// directory and/or name.
func (s *Server) relink(q *request, n *node) error {
	ow, err := q.replaceArg(true)
	if err != nil {
		return err
	}
	fromName, ok := q.arg("from_name")
	if !ok {
		return badRequest("from_name= is required")
	}
	fromName = strings.TrimSpace(fromName)
	toName := fromName
	if v, ok := q.arg("to_name"); ok {
		toName = strings.TrimSpace(v)
	}
	if strings.Contains(fromName, "/") {
		return badRequest("from_name= may not contain a slash")
	}
	if strings.Contains(toName, "/") {
		return badRequest("to_name= may not contain a slash")
	}
	ctx := ctxOf(q)
	to := n.cap
	if toDir, ok := q.arg("to_dir"); ok && toDir != n.cap.String() {
		parts := strings.Split(strings.TrimSpace(toDir), "/")
		root, err := caps.Parse(parts[0])
		if err != nil || !root.IsDirectory() {
			return badRequest("to_dir is not a directory")
		}
		c, err := s.store.Resolve(ctx, root, strings.Join(parts[1:], "/"))
		if err != nil {
			return err
		}
		if !c.IsDirectory() {
			return badRequest("to_dir is not a directory")
		}
		to = c
	}
	return s.move(ctx, n.cap, fromName, to, toName, ow)
}

// childJSON is one child of a children JSON body.
type childJSON struct {
	name         string
	rw, ro       string
	metadata     *pyjson.Dict
	haveMetadata bool
}

// readChildren parses Tahoe's children JSON: {name: [type, {rw_uri,
// ro_uri, metadata}]}.
func readChildren(body []byte) ([]childJSON, error) {
	v, err := pyjson.Parse(body)
	if err != nil {
		return nil, badRequest("the request body is not JSON: %v", err)
	}
	o, ok := v.(*pyjson.Dict)
	if !ok {
		return nil, badRequest("the request body must be a JSON object of children")
	}
	var out []childJSON
	for _, name := range o.Keys() {
		child, _ := o.Get(name)
		pair, ok := child.([]any)
		if !ok || len(pair) != 2 {
			return nil, badRequest("child %s: want [type, properties]", quoteOutput(name, true))
		}
		props, ok := pair[1].(*pyjson.Dict)
		if !ok {
			return nil, badRequest("child %s: want [type, properties]", quoteOutput(name, true))
		}
		c := childJSON{name: name}
		if v, ok := props.Get("rw_uri"); ok {
			if c.rw, ok = v.(string); !ok && v != nil {
				return nil, badRequest("child %s: rw_uri is not a string", quoteOutput(name, true))
			}
		}
		if v, ok := props.Get("ro_uri"); ok {
			if c.ro, ok = v.(string); !ok && v != nil {
				return nil, badRequest("child %s: ro_uri is not a string", quoteOutput(name, true))
			}
		}
		if v, ok := props.Get("metadata"); ok && v != nil {
			md, ok := v.(*pyjson.Dict)
			if !ok {
				return nil, badRequest("child %s: metadata is not an object", quoteOutput(name, true))
			}
			c.metadata, c.haveMetadata = md, true
		}
		out = append(out, c)
	}
	return out, nil
}

// capOf picks the cap of a child from its write and read slots, as
// Tahoe's create_from_cap: a known write cap wins (its read cap is
// derived), else the read cap. immutable requires a deeply immutable cap.
func (c childJSON) capOf(immutable bool) (*caps.Cap, error) {
	deep := func(s string) (*caps.Cap, error) {
		if immutable {
			return caps.ParseDeepImmutable(s)
		}
		return caps.Parse(s)
	}
	mustBeImm := badRequest("MustBeDeepImmutableError: a cap passed to this operation for the child named %s, needed to be immutable but was not. Either the cap is being added to an immutable directory, or it was originally retrieved from an immutable directory as an unknown cap.", quoteOutput(c.name, true))
	if c.rw != "" {
		w, err := deep(c.rw)
		if err != nil {
			if immutable {
				return nil, mustBeImm
			}
			return nil, badRequest("child %s: %v", quoteOutput(c.name, true), err)
		}
		if !w.IsUnknown() {
			return w, nil
		}
		if immutable {
			return nil, mustBeImm
		}
		if c.ro == "" {
			return nil, badRequest("MustNotBeUnknownRWError: an operation to add a child named %s to a directory was given an unknown cap in a write slot.\nUsing a webapi server that supports a later version of Tahoe may help.\n\nIf you are using the webapi directly, specifying a readcap in the read slot (ro_uri) of the JSON PROPDICT, as well as a writecap in the write slot if desired, would also work in this case.", quoteOutput(c.name, true))
		}
	}
	if c.ro == "" {
		return nil, badRequest("child %s has neither rw_uri nor ro_uri", quoteOutput(c.name, true))
	}
	r, err := deep(c.ro)
	if err != nil {
		if immutable {
			return nil, mustBeImm
		}
		return nil, badRequest("child %s: %v", quoteOutput(c.name, true), err)
	}
	if !r.IsUnknown() && !r.IsReadOnly() {
		return nil, badRequest("MustBeReadonlyError: a cap passed to this operation for the child named '%s', needed to be read-only but was not. The cap is being passed in a read slot (ro_uri), or was retrieved from a read slot as an unknown cap.", c.name)
	}
	if immutable && !r.IsUnknown() && r.IsMutable() {
		return nil, mustBeImm
	}
	return r, nil
}

// childrenJSON reads the body of a mkdir-with-children or mkdir-immutable
// as the new directory's entries (metadata as given, {} when absent).
func (s *Server) childrenJSON(q *request, immutable bool) ([]dirnode.Entry, error) {
	body, err := q.smallBody(s.o.MaxJSONBody)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil // no children (Tahoe accepts this even for mkdir-immutable)
	}
	kids, err := readChildren(body)
	if err != nil {
		return nil, err
	}
	out := make([]dirnode.Entry, 0, len(kids))
	for _, k := range kids {
		c, err := k.capOf(immutable)
		if err != nil {
			return nil, err
		}
		md := k.metadata
		if md == nil {
			md = pyjson.NewDict()
		}
		name := dirnode.Normalize(k.name)
		if err := dirnode.CheckName(name); err != nil {
			return nil, badRequest("%v", err)
		}
		e := entryFor(name, c, md)
		if immutable {
			e.RWCap = ""
		}
		out = append(out, e)
	}
	return out, nil
}

// postSetChildren is POST t=set_children.
func (s *Server) postSetChildren(q *request, n *node) error {
	ow, err := q.replaceArg(true)
	if err != nil {
		return err
	}
	if v, ok := q.arg("overwrite"); ok {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		if !b {
			ow = overwriteNone
		}
	}
	body, err := q.smallBody(s.o.MaxJSONBody)
	if err != nil {
		return err
	}
	kids, err := readChildren(body)
	if err != nil {
		return err
	}
	links := make([]link, 0, len(kids))
	for _, k := range kids {
		c, err := k.capOf(false)
		if err != nil {
			return err
		}
		links = append(links, link{name: k.name, cap: c, metadata: k.metadata})
	}
	return s.setChildren(ctxOf(q), n.cap, links, ow)
}

// dirHTML is the human-oriented directory page: a table of the children
// with links, and the forms Tahoe offers.
func (s *Server) dirHTML(q *request, n *node) error {
	entries, err := s.store.ReadDir(ctxOf(q), n.cap)
	if err != nil {
		return err
	}
	si := ""
	if len(n.cap.StorageIndex) > 0 {
		si = caps.Base32Encode(n.cap.StorageIndex)[:6]
	}
	title := "Tahoe-LAFS - Directory SI=" + si
	switch {
	case !n.cap.IsMutable():
		title += " (immutable)"
	case n.cap.IsReadOnly():
		title += " (read-only)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<h1>%s</h1>\n", html.EscapeString(title), html.EscapeString(title))
	b.WriteString("<table>\n<tr><th>Type</th><th>Filename</th><th>Size</th></tr>\n")
	for _, e := range entries {
		c, _ := entryCap(e)
		typ, size := "FILE", "?"
		switch {
		case c.IsUnknown():
			typ = "?"
		case c.IsDirectory():
			typ, size = "DIR", "-"
			if c.IsReadOnly() {
				typ = "DIR-RO"
			}
			if !c.IsMutable() {
				typ = "DIR-IMM"
			}
		default:
			if sz, ok := c.SizeKnown(); ok {
				size = fmt.Sprint(sz)
			}
			if c.IsMutable() {
				typ = "SSK"
				if c.IsReadOnly() {
					typ = "SSK-RO"
				}
			}
		}
		href := "/uri/" + url.PathEscape(c.String())
		if c.IsUnknown() {
			href = "?t=info"
		} else if !c.IsDirectory() {
			href = "/named/" + url.PathEscape(c.String()) + "/" + url.PathEscape(e.Name)
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td><a href=\"%s\">%s</a></td><td>%s</td></tr>\n", typ, html.EscapeString(href), html.EscapeString(e.Name), size)
	}
	b.WriteString("</table>\n")
	if n.cap.IsMutable() && !n.cap.IsReadOnly() {
		b.WriteString("<form action=\".\" method=\"post\" enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"t\" value=\"upload\"><input type=\"file\" name=\"file\"><input type=\"submit\" value=\"Upload\"></form>\n")
		b.WriteString("<form action=\".\" method=\"post\" enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"t\" value=\"mkdir\"><input type=\"text\" name=\"name\"><input type=\"submit\" value=\"Create\"></form>\n")
	}
	b.WriteString("</body></html>\n")
	return htmlPage(q, b.String())
}

func htmlPage(q *request, body string) error {
	q.w.Header().Set("Content-Type", "text/html;charset=utf-8")
	q.w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if q.r.Method != http.MethodHead {
		_, _ = io.WriteString(q.w, body)
	}
	return nil
}

// renameForm is GET t=rename-form: a form posting t=rename.
func (s *Server) renameForm(q *request, n *node) error {
	name := q.argOr("name", "")
	body := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Rename</title></head><body>\n" +
		"<form action=\".\" method=\"post\" enctype=\"multipart/form-data\">\n" +
		"<input type=\"hidden\" name=\"t\" value=\"rename\">\n" +
		"<input type=\"hidden\" name=\"when_done\" value=\".\">\n" +
		"Rename child: <input type=\"text\" name=\"from_name\" readonly value=\"" + html.EscapeString(name) + "\">\n" +
		"to: <input type=\"text\" name=\"to_name\">\n<input type=\"submit\" value=\"rename\">\n</form>\n</body></html>\n"
	return htmlPage(q, body)
}

// info is t=info: a page about one object.
func (s *Server) info(q *request, n *node) error {
	c := n.cap
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - More Info</title></head><body>\n<ul>\n")
	kind := "file"
	switch {
	case c.IsUnknown():
		kind = "unknown"
	case c.IsDirectory():
		kind = "directory"
	}
	if n.name != "" {
		fmt.Fprintf(&b, "<li>Name: %s</li>\n", html.EscapeString(n.name))
	}
	fmt.Fprintf(&b, "<li>Object Type: %s</li>\n", kind)
	if !c.IsUnknown() {
		if len(c.StorageIndex) > 0 {
			fmt.Fprintf(&b, "<li>Storage Index: %s</li>\n", caps.Base32Encode(c.StorageIndex))
		}
		if sz, ok := c.SizeKnown(); ok && !c.IsDirectory() {
			fmt.Fprintf(&b, "<li>Object Size: %d</li>\n", sz)
		}
		if !c.IsReadOnly() {
			fmt.Fprintf(&b, "<li>Read-Write URI: %s</li>\n", html.EscapeString(c.String()))
		}
		fmt.Fprintf(&b, "<li>Read-Only URI: %s</li>\n", html.EscapeString(readOnlyString(c)))
		if v := c.Verifier(); v != nil {
			fmt.Fprintf(&b, "<li>Verifier URI: %s</li>\n", html.EscapeString(v.String()))
		}
	}
	b.WriteString("</ul>\n</body></html>\n")
	return htmlPage(q, b.String())
}
