package gateway

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

var (
	_ filestore.Store    = (*Store)(nil)
	_ filestore.Reporter = (*Store)(nil)
)

// Upload streams size bytes of src to `PUT /uri` and returns the cap the
// node made. Created is true when the node answered 201 Created (Tahoe
// answers an unlinked upload with 200 OK whether or not the grid already
// held the file). Placement is nil: the web API does not say.
// o.Progress counts bytes sent to the node.
func (s *Store) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	const op = "upload"
	c, code, err := s.putContents(ctx, op, "uri", "", src, size, o.Progress)
	if err != nil {
		return nil, err
	}
	if c.Kind != caps.KindCHK && c.Kind != caps.KindLIT {
		return nil, fmt.Errorf("%s: the node answered with a %s cap, want CHK or LIT", op, c.Kind)
	}
	if got, ok := c.SizeKnown(); ok && got != uint64(size) {
		return nil, fmt.Errorf("%s: the node stored %d bytes, not the %d sent", op, got, size)
	}
	return &filestore.UploadResult{Cap: c, Created: code == http.StatusCreated}, nil
}

// putContents streams size bytes of src in a PUT to path?query and
// returns the cap the node answers with and the status code.
func (s *Store) putContents(ctx context.Context, op, path, query string, src io.ReaderAt, size int64, progress func(int64)) (*caps.Cap, int, error) {
	if size < 0 {
		return nil, 0, fmt.Errorf("%s of negative size %d", op, size)
	}
	var reported int64 // shared by retries, so the count never goes back
	open := func() io.Reader {
		var r io.Reader = io.NewSectionReader(src, 0, size)
		if progress != nil {
			r = &progressReader{r: r, fn: func(n int64) {
				if n > reported {
					reported = n
					progress(n)
				}
			}}
		}
		return r
	}
	resp, cancel, err := s.do(ctx, request{op: op, method: http.MethodPut, path: path, query: query, body: open(), size: size, stream: true,
		getBody: func() (io.ReadCloser, error) { return io.NopCloser(open()), nil }})
	if err != nil {
		return nil, 0, err
	}
	defer cancel()
	defer resp.Body.Close()
	body, err := s.readAll(op, resp, maxCapResponse)
	if err != nil {
		return nil, 0, err
	}
	c, err := capResponse(op, body)
	if err != nil {
		return nil, 0, err
	}
	return c, resp.StatusCode, nil
}

// progressReader reports the running count of bytes read.
type progressReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

// Read reads from the underlying reader and reports the new count.
func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 {
		p.fn(p.n)
	}
	return n, err
}

// Download streams `GET /uri/$CAP` into w. The node verifies what it
// sends; a transfer cut short, or a length other than the cap's, is an
// error. o.OnBadShare is never called: the web API does not report
// shares.
func (s *Store) Download(ctx context.Context, c *caps.Cap, w io.Writer, o filestore.DownloadOptions) error {
	const op = "download"
	switch {
	case c.IsUnknown():
		return fmt.Errorf("%s: a cap of unknown kind cannot be read", op)
	case c.IsDirectory():
		return fmt.Errorf("%s: a %s cap is a directory, not a file", op, c.Kind)
	}
	if lvl, ok := c.Level(); ok && lvl == caps.LevelVerify {
		return fmt.Errorf("%s: a %s cap can verify a file but not read it", op, c.Kind)
	}
	resp, cancel, err := s.do(ctx, request{op: op, method: http.MethodGet, path: capPath(c.String()), stream: true})
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return fmt.Errorf("%s: after %d bytes: %w", op, n, stripURL(err))
	}
	if want, ok := c.SizeKnown(); ok && uint64(n) != want {
		return fmt.Errorf("%s: the node sent %d bytes of a %d-byte file", op, n, want)
	}
	return nil
}

// mutableFormat is the format= value for a mutable file or directory.
func mutableFormat(f filestore.Format, dir bool) (string, error) {
	switch f {
	case filestore.FormatDefault:
		if dir {
			return "", nil // the node's default, as Tahoe's CLI leaves it
		}
		return "SDMF", nil
	case filestore.FormatSDMF, filestore.FormatMDMF:
		return f.String(), nil
	}
	return "", fmt.Errorf("a mutable file or directory cannot be %s", f)
}

// CreateMutable stores data as a new mutable file (`PUT
// /uri?mutable=true&format=...`), signed with o.Key when given (the web
// API's private-key argument, Tahoe 1.19 and later; a node that ignores
// it is an error, since the cap would not be the one the key makes).
func (s *Store) CreateMutable(ctx context.Context, data []byte, o filestore.MutableOptions) (*caps.Cap, error) {
	const op = "create mutable file"
	format, err := mutableFormat(o.Format, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	query := "mutable=true&format=" + format
	var want *caps.Cap
	if o.Key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(o.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding the private key: %w", op, err)
		}
		if want, err = caps.NewMutableWriteCap(o.Key, format == "MDMF"); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		query += "&private-key=" + base64.URLEncoding.EncodeToString(der)
	}
	body, size, get := bytesBody(data)
	out, err := s.call(ctx, request{op: op, method: http.MethodPut, path: "uri", query: query, body: body, size: size, getBody: get, stream: true}, maxCapResponse)
	if err != nil {
		return nil, err
	}
	c, err := capResponse(op, out)
	if err != nil {
		return nil, err
	}
	wantKind := caps.KindSSK
	if format == "MDMF" {
		wantKind = caps.KindMDMF
	}
	if c.Kind != wantKind {
		return nil, fmt.Errorf("%s: the node made a %s cap, want %s", op, c.Kind, wantKind)
	}
	if want != nil && c.String() != want.String() {
		return nil, fmt.Errorf("%s: the node did not use the private key given (a node older than Tahoe-LAFS 1.19 ignores it)", op)
	}
	return c, nil
}

// OverwriteMutable replaces a mutable file's contents (`PUT /uri/$CAP`).
func (s *Store) OverwriteMutable(ctx context.Context, c *caps.Cap, data []byte) error {
	const op = "overwrite mutable file"
	switch {
	case c.IsDirectory() || c.IsUnknown() || !c.IsMutable():
		return fmt.Errorf("%s: a %s cap is not a mutable file", op, c.Kind)
	case c.IsReadOnly():
		return fmt.Errorf("%s: a %s cap is read-only: %w", op, c.Kind, filestore.ErrReadOnly)
	}
	body, size, get := bytesBody(data)
	_, err := s.call(ctx, request{op: op, method: http.MethodPut, path: capPath(c.String()), body: body, size: size, getBody: get, stream: true}, maxCapResponse)
	return err
}

// Mkdir creates a directory: `POST /uri?t=mkdir` (empty),
// `?t=mkdir-with-children` (with o.Children) or `?t=mkdir-immutable`
// (o.Format FormatCHK). With FormatDefault the node's own default format
// applies (SDMF unless its tahoe.cfg says otherwise), as with Tahoe's CLI.
// Children without metadata are given fresh link times, as the direct
// store gives them.
//
// Tahoe's unlinked t=mkdir-with-children ignores format= (the directory
// is always of the node's default format), so a directory with children
// whose format is not the node's default is made empty and then filled
// with one `POST /uri/$DIRCAP?t=set_children`; the node then sets the
// children's link times itself and ignores any "tahoe" key in their
// metadata. (For SDMF this is known only from the answer: a node with an
// MDMF default leaves that first directory behind, unlinked.)
func (s *Store) Mkdir(ctx context.Context, o filestore.MkdirOptions) (*caps.Cap, error) {
	const op = "mkdir"
	children := withLinkTimes(o.Children, time.Now())
	if o.Format == filestore.FormatCHK {
		for _, e := range children {
			if e.RWCap != "" {
				return nil, fmt.Errorf("%s: child %q: an immutable directory cannot hold a write cap", op, e.Name)
			}
		}
		return s.mkdir(ctx, op, "t=mkdir-immutable", children, true)
	}
	format, err := mutableFormat(o.Format, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	fq := ""
	if format != "" {
		fq = "&format=" + format
	}
	if len(children) == 0 {
		return s.mkdir(ctx, op, "t=mkdir"+fq, nil, false)
	}
	if format != "MDMF" {
		d, err := s.mkdir(ctx, op, "t=mkdir-with-children"+fq, children, true)
		// A node whose own default is MDMF makes an MDMF directory even
		// when SDMF was asked for; then (and only then) take the long way.
		if err != nil || format == "" || d.Kind == caps.KindDIR2 {
			return d, err
		}
	}
	js, err := EncodeChildren(children) // refuse bad names before making anything
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	d, err := s.mkdir(ctx, op, "t=mkdir"+fq, nil, false)
	if err != nil {
		return nil, err
	}
	body, size, get := bytesBody(js)
	if _, err := s.call(ctx, request{op: op + ": adding the children", method: http.MethodPost, path: capPath(d.String()),
		query: "t=set_children&overwrite=false", body: body, size: size, getBody: get}, maxCapResponse); err != nil {
		return nil, err
	}
	return d, nil
}

// mkdir makes one t=mkdir* request and checks the cap it answers.
func (s *Store) mkdir(ctx context.Context, op, query string, children []dirnode.Entry, withBody bool) (*caps.Cap, error) {
	r := request{op: op, method: http.MethodPost, path: "uri", query: query}
	if withBody {
		js, err := EncodeChildren(children)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		r.body, r.size, r.getBody = bytesBody(js)
	}
	out, err := s.call(ctx, r, maxCapResponse)
	if err != nil {
		return nil, err
	}
	c, err := capResponse(op, out)
	if err != nil {
		return nil, err
	}
	if !c.IsDirectory() {
		return nil, fmt.Errorf("%s: the node answered with a %s cap, not a directory", op, c.Kind)
	}
	return c, nil
}

// withLinkTimes gives children without metadata Tahoe's link times.
func withLinkTimes(children []dirnode.Entry, now time.Time) []dirnode.Entry {
	out := make([]dirnode.Entry, len(children))
	for i, e := range children {
		if len(e.Metadata) == 0 {
			e.Metadata = dirnode.NewMetadata(now)
		}
		out[i] = e
	}
	return out
}

// ReadDir lists a directory (`GET /uri/$DIRCAP?t=json`), children in the
// order the node sent them.
func (s *Store) ReadDir(ctx context.Context, dir *caps.Cap) ([]dirnode.Entry, error) {
	const op = "read directory"
	if !dir.IsDirectory() {
		return nil, fmt.Errorf("%s: a %s cap: %w", op, dir.Kind, filestore.ErrNotDirectory)
	}
	n, err := s.stat(ctx, op, dir, nil)
	if err != nil {
		return nil, err
	}
	if n.Type != TypeDir {
		return nil, fmt.Errorf("%s: the node describes a %s: %w", op, n.Type, filestore.ErrNotDirectory)
	}
	return n.Entries(), nil
}

// checkWritableDir refuses, before any request, what the node would.
func checkWritableDir(op string, dir *caps.Cap) error {
	switch {
	case !dir.IsDirectory():
		return fmt.Errorf("%s: a %s cap: %w", op, dir.Kind, filestore.ErrNotDirectory)
	case dir.IsReadOnly():
		return fmt.Errorf("%s: %s is a read-only directory cap: %w", op, dir.Kind, filestore.ErrReadOnly)
	case !dir.IsMutable():
		return fmt.Errorf("%s: a %s directory is immutable: %w", op, dir.Kind, filestore.ErrReadOnly)
	}
	return nil
}

// Link adds child as name in dir (`PUT /uri/$DIRCAP/NAME?t=uri`,
// replace=false unless replace).
func (s *Store) Link(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, replace bool) error {
	name = dirnode.Normalize(name)
	op := fmt.Sprintf("link %q", name)
	if err := dirnode.CheckName(name); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := checkWritableDir(op, dir); err != nil {
		return err
	}
	query := "t=uri&replace=false"
	if replace {
		query = "t=uri&replace=true"
	}
	body, size, get := bytesBody([]byte(child.String()))
	_, err := s.call(ctx, request{op: op, method: http.MethodPut, path: capPath(dir.String(), name), query: query, body: body, size: size, getBody: get}, maxCapResponse)
	return err
}

// Unlink removes name from dir (`DELETE /uri/$DIRCAP/NAME`).
func (s *Store) Unlink(ctx context.Context, dir *caps.Cap, name string) error {
	name = dirnode.Normalize(name)
	op := fmt.Sprintf("unlink %q", name)
	if err := dirnode.CheckName(name); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := checkWritableDir(op, dir); err != nil {
		return err
	}
	_, err := s.call(ctx, request{op: op, method: http.MethodDelete, path: capPath(dir.String(), name)}, maxCapResponse)
	return err
}

// Resolve walks path from root with one `GET /uri/$ROOT/a/b?t=json`.
func (s *Store) Resolve(ctx context.Context, root *caps.Cap, path string) (*caps.Cap, error) {
	parts := splitPath(path)
	if len(parts) == 0 {
		return root, nil
	}
	op := fmt.Sprintf("resolve %q", strings.Join(parts, "/"))
	if !root.IsDirectory() {
		return nil, fmt.Errorf("%s: the root is a %s cap: %w", op, root.Kind, filestore.ErrNotDirectory)
	}
	n, err := s.stat(ctx, op, root, parts)
	if err != nil {
		return nil, err
	}
	if n.Cap() == "" {
		return nil, fmt.Errorf("%s: the node gave no cap for it", op)
	}
	c, err := caps.Parse(n.Cap())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// Stat returns what `GET /uri/$ROOT[/path]?t=json` says of the object
// path names below root (root itself for ""): its caps, size, format,
// the link's metadata and, for a directory, its children.
func (s *Store) Stat(ctx context.Context, root *caps.Cap, path string) (*Node, error) {
	parts := splitPath(path)
	return s.stat(ctx, fmt.Sprintf("stat %q", strings.Join(parts, "/")), root, parts)
}

func (s *Store) stat(ctx context.Context, op string, root *caps.Cap, parts []string) (*Node, error) {
	body, err := s.rawJSON(ctx, op, root, parts)
	if err != nil {
		return nil, err
	}
	n, err := ParseNode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// RawJSON returns the node's own t=json body for the object path names
// below root, byte for byte (what `tahoe ls --json` prints).
func (s *Store) RawJSON(ctx context.Context, root *caps.Cap, path string) ([]byte, error) {
	parts := splitPath(path)
	return s.rawJSON(ctx, fmt.Sprintf("t=json of %q", strings.Join(parts, "/")), root, parts)
}

func (s *Store) rawJSON(ctx context.Context, op string, root *caps.Cap, parts []string) ([]byte, error) {
	for i, p := range parts {
		parts[i] = dirnode.Normalize(p)
	}
	return s.call(ctx, request{op: op, method: http.MethodGet, path: capPath(root.String(), parts...), query: "t=json"}, s.opts.MaxJSON)
}

// Welcome fetches and parses the JSON welcome page (`GET /?t=json`).
func (s *Store) Welcome(ctx context.Context) (*Welcome, error) {
	const op = "welcome page"
	body, err := s.call(ctx, request{op: op, method: http.MethodGet, path: "", query: "t=json"}, s.opts.MaxJSON)
	if err != nil {
		return nil, err
	}
	w, err := ParseWelcome(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return w, nil
}

// GridStatus describes the node's storage servers from its welcome page:
// a server is reachable when the node is connected to it. Address is
// empty (the page does not give it); Error is the node's connection
// summary for a server it is not connected to. timeout bounds the one
// request.
func (s *Store) GridStatus(ctx context.Context, timeout time.Duration) (*filestore.GridStatus, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	w, err := s.Welcome(ctx)
	if err != nil {
		return nil, err
	}
	out := &filestore.GridStatus{Kind: "gateway", Servers: make([]filestore.ServerStatus, len(w.Servers))}
	for i, ws := range w.Servers {
		st := filestore.ServerStatus{ID: ws.NodeID, Nickname: ws.Nickname, Version: ws.Version, AvailableSpace: ws.AvailableSpace, Reachable: ws.Connected()}
		if !st.Reachable {
			st.Error = ws.ConnectionStatus
			if st.Error == "" {
				st.Error = "not connected"
			}
		}
		out.Servers[i] = st
	}
	sort.SliceStable(out.Servers, func(a, b int) bool {
		if out.Servers[a].Nickname != out.Servers[b].Nickname {
			return out.Servers[a].Nickname < out.Servers[b].Nickname
		}
		return out.Servers[a].ID < out.Servers[b].ID
	})
	return out, nil
}
