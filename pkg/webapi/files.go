package webapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// serveFile handles a file cap, reached directly or through a directory.
func (s *Server) serveFile(q *request, n *node) error {
	switch q.r.Method {
	case http.MethodGet:
		return s.getFile(q, n)
	case http.MethodHead:
		if t := q.t(); t != "" {
			return badRequest("HEAD file: bad t=%s", pyBytesRepr(t))
		}
		return s.download(q, n.cap, q.argOr("filename", n.name))
	case http.MethodPut:
		return s.putFile(q, n)
	case http.MethodPost:
		return s.postFile(q, n)
	case http.MethodDelete:
		return s.deleteNode(q, n)
	}
	return methodNotAllowed(q, "GET", "HEAD", "PUT", "POST", "DELETE")
}

// etag sets Tahoe's ETag for an immutable object and reports whether the
// client's If-None-Match already holds it (the response is then sent).
func etag(q *request, c *caps.Cap, prefix, t string) bool {
	if c.IsMutable() || len(c.StorageIndex) == 0 {
		return false
	}
	tag := prefix + caps.Base32Encode(c.StorageIndex) + "-" + t
	q.w.Header().Set("ETag", tag)
	inm := q.r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, have := range strings.Fields(inm) {
		if have == tag || have == "*" {
			if q.r.Method == http.MethodGet || q.r.Method == http.MethodHead {
				q.w.WriteHeader(http.StatusNotModified)
			} else {
				q.w.WriteHeader(http.StatusPreconditionFailed)
			}
			return true
		}
	}
	return false
}

func (s *Server) getFile(q *request, n *node) error {
	t := q.t()
	switch t {
	case "", "json", "uri", "readonly-uri":
		if etag(q, n.cap, "", t) {
			return nil
		}
	}
	switch t {
	case "":
		return s.download(q, n.cap, q.argOr("filename", n.name))
	case "json":
		return s.fileJSON(q, n)
	case "info":
		return s.info(q, n)
	case "uri":
		return textPlain(q, n.cap.String())
	case "readonly-uri":
		return textPlain(q, readOnlyString(n.cap))
	}
	return badRequest("GET file: bad t=%s", t)
}

func readOnlyString(c *caps.Cap) string {
	if ro := c.ReadOnly(); ro != nil {
		return ro.String()
	}
	return c.String()
}

// textPlain answers a short text body as Tahoe's text_plain.
func textPlain(q *request, text string) error {
	q.w.Header().Set("Content-Type", "text/plain")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	if q.r.Method != http.MethodHead {
		_, _ = io.WriteString(q.w, text)
	}
	return nil
}

// contentType is Twisted's static.getTypeAndEncoding for a file name
// (text/plain when the extension says nothing).
func contentType(name string) (ctype, encoding string) {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".gz":
		encoding = "gzip"
	case ".bz2":
		encoding = "bzip2"
	}
	if encoding != "" {
		ext = strings.ToLower(path.Ext(strings.TrimSuffix(name, name[len(name)-len(ext):])))
	}
	if t, ok := twistedType(ext); ok {
		return t, encoding
	}
	if t := mime.TypeByExtension(ext); t != "" && ext != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt, encoding
		}
	}
	return "text/plain", encoding
}

// twistedType is the type Twisted's static.File gives an extension
// (Python's mimetypes over Debian's /etc/mime.types, with Twisted's own
// additions), for the common ones.
func twistedType(ext string) (string, bool) {
	switch ext {
	case ".txt", ".conf", ".diff", ".patch", ".java", ".go", ".log", ".yaml", ".cfg", ".toml", ".ini":
		return "text/plain", true
	case ".html", ".htm":
		return "text/html", true
	case ".jpg", ".jpeg":
		return "image/jpeg", true
	case ".json":
		return "application/json", true
	case ".py":
		return "text/x-python", true
	case ".md":
		return "text/markdown", true
	case ".tar":
		return "application/x-tar", true
	case ".gz":
		return "application/gzip", true
	case ".bin":
		return "application/octet-stream", true
	case ".rst":
		return "text/prs.fallenstein.rst", true
	case ".csv":
		return "text/csv", true
	case ".js":
		return "text/javascript", true
	case ".css":
		return "text/css", true
	case ".png":
		return "image/png", true
	case ".pdf":
		return "application/pdf", true
	case ".zip":
		return "application/zip", true
	case ".xml":
		return "application/xml", true
	case ".svg":
		return "image/svg+xml", true
	case ".mp4":
		return "video/mp4", true
	case ".mp3":
		return "audio/mpeg", true
	case ".c":
		return "text/x-csrc", true
	case ".h":
		return "text/x-chdr", true
	case ".sh":
		return "text/x-sh", true
	case ".doc":
		return "application/msword", true
	case ".iso":
		return "application/x-iso9660-image", true
	case ".ico":
		return "image/vnd.microsoft.icon", true
	case ".gif":
		return "image/gif", true
	case ".webp":
		return "image/webp", true
	case ".wasm":
		return "application/wasm", true
	case ".tgz":
		return "application/x-gtar-compressed", true
	case ".exe":
		return "application/x-msdos-program", true
	case ".deb":
		return "application/vnd.debian.binary-package", true
	case ".7z":
		return "application/x-7z-compressed", true
	case ".ogg":
		return "audio/ogg", true
	case ".wav":
		return "audio/x-wav", true
	case ".flac":
		return "audio/x-flac", true
	case ".mkv":
		return "video/x-matroska", true
	case ".webm":
		return "video/webm", true
	case ".avi":
		return "video/x-msvideo", true
	case ".mov":
		return "video/quicktime", true
	case ".epub":
		return "application/epub+zip", true
	}
	return "", false
}

// byteRange is one parsed Range: first and last byte, inclusive.
type byteRange struct{ first, last int64 }

// parseRange reads a Range header as Tahoe's FileDownloader does: a
// "bytes" unit and comma-separated ranges, of which the first is served;
// anything it cannot read means "no range" (ok false).
func parseRange(header string, size int64) (byteRange, bool) {
	units, set, found := strings.Cut(header, "=")
	if !found || units != "bytes" {
		return byteRange{}, false
	}
	var out []byteRange
	for _, r := range strings.Split(set, ",") {
		r = strings.TrimSpace(r)
		firstS, lastS, ok := strings.Cut(r, "-")
		if !ok {
			return byteRange{}, false
		}
		var br byteRange
		if firstS == "" {
			n, err := parseInt(lastS)
			if err != nil {
				return byteRange{}, false
			}
			br = byteRange{size - n, size - 1}
		} else {
			f, err := parseInt(firstS)
			if err != nil {
				return byteRange{}, false
			}
			br.first = f
			if lastS == "" {
				br.last = size - 1
			} else if br.last, err = parseInt(lastS); err != nil {
				return byteRange{}, false
			}
		}
		if br.last < br.first {
			return byteRange{}, false
		}
		out = append(out, br)
	}
	if len(out) == 0 {
		return byteRange{}, false
	}
	return out[0], true
}

// clipRange fits a range that starts inside the file to the file, as
// Tahoe does; ok is false when nothing is left (a suffix range of an
// empty file), which serves the whole file.
func clipRange(br byteRange, size int64) (first, last int64, ok bool) {
	first, last = max(0, br.first), min(size-1, br.last)
	return first, last, first <= last
}

// parseInt reads a decimal as Python's int() does for these headers
// (surrounding spaces, an optional sign).
func parseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	if s == "" || strings.ContainsAny(s, "_") {
		return 0, errors.New("not an integer")
	}
	return strconv.ParseInt(s, 10, 64)
}

// window passes on the bytes [skip, skip+left) of what is written to it
// and stops the writer (errWindowDone) once they are through.
type window struct {
	w           io.Writer
	skip, left  int64
	wroteAny    bool
	writeFailed bool
}

var errWindowDone = errors.New("range complete")

func (w *window) Write(p []byte) (int, error) {
	n := len(p)
	if w.skip > 0 {
		if int64(len(p)) <= w.skip {
			w.skip -= int64(len(p))
			return n, nil
		}
		p = p[w.skip:]
		w.skip = 0
	}
	if int64(len(p)) > w.left {
		p = p[:w.left]
	}
	if len(p) > 0 {
		w.wroteAny = true
		if _, err := w.w.Write(p); err != nil {
			w.writeFailed = true
			return 0, err
		}
		w.left -= int64(len(p))
	}
	if w.left == 0 {
		return n, errWindowDone
	}
	return n, nil
}

// download streams a file's contents (Tahoe's FileDownloader): type from
// the name, Range, HEAD, save=true.
func (s *Server) download(q *request, c *caps.Cap, filename string) error {
	if filename == "" {
		filename = "unknown"
	}
	ctx := ctxOf(q)
	h := q.w.Header()
	ctype, enc := contentType(filename)
	h.Set("Content-Type", ctype)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	save, err := q.boolArg("save", false)
	if err != nil {
		return err
	}
	if save {
		h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	}
	// A mutable file is fetched whole first (its size is not in the cap;
	// the store holds mutable contents in memory anyway).
	var data []byte
	size, known := c.SizeKnown()
	if !known {
		var buf boundedBuffer
		buf.limit = s.o.MaxMutableSize
		if err := s.store.Download(ctx, c, &buf, filestore.DownloadOptions{}); err != nil {
			return err
		}
		data = buf.Bytes()
		size = uint64(len(data))
		s.stats.filesRetrieved.Add(1)
		s.stats.bytesRetrieved.Add(int64(size))
	}
	fsize := int64(size)
	first, length := int64(0), fsize
	h.Set("Accept-Ranges", "bytes")
	code := http.StatusOK
	if rh := q.r.Header.Get("Range"); rh != "" {
		if br, ok := parseRange(rh, fsize); ok {
			if br.first >= fsize {
				return errCode(http.StatusRequestedRangeNotSatisfiable, "First beyond end of file")
			}
			if f, last, ok := clipRange(br, fsize); ok {
				first = f
				code = http.StatusPartialContent
				h.Set("Content-Range", "bytes "+strconv.FormatInt(first, 10)+"-"+strconv.FormatInt(last, 10)+"/"+strconv.FormatInt(fsize, 10))
				length = last - first + 1
			}
		}
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(code)
		return nil
	}
	if data != nil || length == 0 {
		q.w.WriteHeader(code)
		if length > 0 {
			_, _ = q.w.Write(data[first : first+length])
		}
		return nil
	}
	hw := &headerWriter{w: q.w, code: code}
	// The response is written behind the decoding, so that a client that
	// is slow to read for a moment does not stall the download pipeline.
	wb := newWriteBehind(hw, writeBehindBuffers, writeBehindSize)
	win := &window{w: wb, skip: first, left: length}
	err = s.store.Download(ctx, c, win, filestore.DownloadOptions{})
	if werr := wb.Close(); werr != nil && (err == nil || errors.Is(err, errWindowDone)) {
		err = werr
	}
	if errors.Is(err, errWindowDone) || (err == nil && win.left == 0) {
		s.stats.filesDownloaded.Add(1)
		s.stats.bytesDownloaded.Add(length)
		return nil
	}
	if err == nil {
		err = errors.New("the file ended before its stated size")
	}
	if !hw.started {
		return err
	}
	s.log.Warn("download failed after the response started", "err", err)
	return errAborted
}

// The write-behind of a file GET: up to writeBehindBuffers pieces of at
// most writeBehindSize bytes each wait for the client (8 MiB in all).
const (
	writeBehindBuffers = 8
	writeBehindSize    = 1 << 20
)

// writeBehind passes what is written to it on to w from its own
// goroutine, through a few reused buffers, so that the writer (a download
// pipeline) goes on while w (a client's connection) is slow for a moment.
// A failed write of w fails the next Write; Close waits until everything
// written has gone to w and returns w's first error. Write and Close are
// called from one goroutine.
type writeBehind struct {
	w      io.Writer
	queue  chan []byte
	free   chan []byte
	done   chan struct{}
	made   int // buffers made so far, at most cap(free)
	size   int
	err    error // w's first error; read after done is closed or failed is set
	failed atomic.Bool
	closed bool
}

func newWriteBehind(w io.Writer, buffers, size int) *writeBehind {
	b := &writeBehind{w: w, queue: make(chan []byte, buffers), free: make(chan []byte, buffers), done: make(chan struct{}), size: size}
	go func() {
		defer close(b.done)
		for p := range b.queue {
			if !b.failed.Load() {
				if _, err := b.w.Write(p); err != nil {
					b.err = err
					b.failed.Store(true)
				}
			}
			b.free <- p[:0] // never blocks: it holds every buffer
		}
	}()
	return b
}

func (b *writeBehind) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if b.failed.Load() {
			return 0, b.err
		}
		var buf []byte
		select {
		case buf = <-b.free:
		default:
			if b.made < cap(b.free) {
				b.made++
				buf = make([]byte, 0, b.size)
			} else {
				buf = <-b.free
			}
		}
		m := min(len(p), b.size)
		buf = append(buf, p[:m]...)
		p = p[m:]
		b.queue <- buf
	}
	return n, nil
}

// Close waits for the writes queued and returns w's first error.
func (b *writeBehind) Close() error {
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	<-b.done
	return b.err
}

// headerWriter sends the status line on the first write.
type headerWriter struct {
	w       http.ResponseWriter
	code    int
	started bool
}

func (h *headerWriter) Write(p []byte) (int, error) {
	if !h.started {
		h.started = true
		h.w.WriteHeader(h.code)
	}
	return h.w.Write(p)
}

// boundedBuffer is a bytes.Buffer that refuses to grow past limit.
type boundedBuffer struct {
	bytes.Buffer
	limit int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if int64(b.Len()+len(p)) > b.limit {
		return 0, errTooLarge(b.limit)
	}
	return b.Buffer.Write(p)
}

// putFile is PUT to an existing file: a new version of a mutable file,
// or (through a directory) a new file in its place.
func (s *Server) putFile(q *request, n *node) error {
	ctx := ctxOf(q)
	t := q.t()
	ow, err := q.replaceArg(true)
	if err != nil {
		return err
	}
	offset, hasOffset := q.arg("offset")
	switch t {
	case "":
		if ow == overwriteNone {
			return errCode(http.StatusConflict, textExists)
		}
		if n.cap.IsMutable() {
			if n.cap.IsReadOnly() {
				return badRequest("PUT to a mutable file: replace or update requested with read-only cap")
			}
			if hasOffset {
				return s.updateMutable(q, n.cap, offset)
			}
			data, err := q.smallBody(s.o.MaxMutableSize)
			if err != nil {
				return err
			}
			if err := s.overwrite(ctx, n.cap, data); err != nil {
				return err
			}
			s.countPublish(len(data))
			return result(q, http.StatusOK, n.cap.String())
		}
		if hasOffset {
			return badRequest("PUT to a file: append operation invoked on an immutable cap")
		}
		if n.parent == nil {
			return methodNotAllowed(q, "GET", "HEAD", "POST")
		}
		return s.replaceWithUpload(q, n)
	case "uri":
		if ow == overwriteNone {
			return errCode(http.StatusConflict, textExists)
		}
		if n.parent == nil {
			return badRequest("PUT to a file: bad t=uri")
		}
		return s.replaceWithCap(q, n, ow)
	}
	return badRequest("PUT to a file: bad t=%s", t)
}

// updateMutable writes the body at offset into a mutable file (Tahoe's
// PUT ...?offset=).
func (s *Server) updateMutable(q *request, c *caps.Cap, offsetArg string) error {
	off, err := strconv.ParseInt(strings.TrimSpace(offsetArg), 10, 64)
	if err != nil {
		return errCode(http.StatusInternalServerError, "ValueError: invalid literal for int() with base 10: %s", pyBytesRepr(offsetArg))
	}
	if off < 0 {
		return badRequest("PUT to a mutable file: Invalid offset")
	}
	ctx := ctxOf(q)
	add, err := q.smallBody(s.o.MaxMutableSize)
	if err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, c)
	if err != nil {
		return err
	}
	defer unlock()
	var buf boundedBuffer
	buf.limit = s.o.MaxMutableSize
	if err := s.store.Download(ctx, c, &buf, filestore.DownloadOptions{}); err != nil {
		return err
	}
	old := buf.Bytes()
	if off > int64(len(old)) {
		off = int64(len(old)) // Tahoe's update past the end appends
	}
	end := off + int64(len(add))
	if end > s.o.MaxMutableSize {
		return errTooLarge(s.o.MaxMutableSize)
	}
	data := make([]byte, max(int64(len(old)), end))
	copy(data, old)
	copy(data[off:], add)
	if err := s.store.OverwriteMutable(ctx, c, data); err != nil {
		return err
	}
	s.countPublish(len(data))
	return result(q, http.StatusOK, c.String())
}

// overwrite publishes a new version of a mutable file, one writer at a
// time.
func (s *Server) overwrite(ctx context.Context, c *caps.Cap, data []byte) error {
	unlock, err := s.locks.lock(ctx, c)
	if err != nil {
		return err
	}
	defer unlock()
	return s.store.OverwriteMutable(ctx, c, data)
}

func (s *Server) countPublish(n int) {
	s.stats.filesPublished.Add(1)
	s.stats.bytesPublished.Add(int64(n))
}

// postFile is POST to a file: t=upload (a new version, or a replacement
// through a directory) and t=check.
func (s *Server) postFile(q *request, n *node) error {
	t := q.t()
	replace, err := q.boolArg("replace", true)
	if err != nil {
		return err
	}
	switch t {
	case "check":
		return s.check(q, n)
	case "upload":
		var res string
		if n.cap.IsMutable() {
			if n.cap.IsReadOnly() {
				return badRequest("POST to a mutable file: replace requested with read-only cap")
			}
			data, err := q.fileContents(s.o.MaxMutableSize)
			if err != nil {
				return err
			}
			if err := s.overwrite(ctxOf(q), n.cap, data); err != nil {
				return err
			}
			s.countPublish(len(data))
			res = n.cap.String()
		} else {
			if !replace {
				return errCode(http.StatusConflict, textExists)
			}
			if n.parent == nil {
				return badRequest("POST to file: bad t=upload")
			}
			c, err := s.formUpload(q, n.parent, n.name, overwriteAll)
			if err != nil {
				return err
			}
			res = c.String()
		}
		return s.whenDone(q, res)
	}
	return badRequest("POST to file: bad t=%s", t)
}

// whenDone redirects to when_done= when given, else answers text.
func (s *Server) whenDone(q *request, text string) error {
	if to, ok := q.arg("when_done"); ok && to != "" {
		redirectTo(q, to)
		return nil
	}
	return result(q, http.StatusOK, text)
}

// servePlaceholder handles a missing last name: PUT creates it.
func (s *Server) servePlaceholder(q *request, n *node) error {
	t := q.t()
	switch q.r.Method {
	case http.MethodPut:
		ow, err := q.replaceArg(true)
		if err != nil {
			return err
		}
		if q.r.Header.Get("Content-Range") != "" {
			return errCode(http.StatusNotImplemented, "Content-Range in PUT not yet supported")
		}
		switch t {
		case "":
			return s.replaceWithUpload(q, n)
		case "uri":
			return s.replaceWithCap(q, n, ow)
		case "mkdir":
			c, err := s.mkdirNamed(q, n, filestore.MkdirOptions{})
			if err != nil {
				return err
			}
			return textPlain(q, c.String()) // the new directory's PUT t=mkdir: text_plain
		}
		return badRequest("PUT to a file: bad t=%s", t)
	case http.MethodPost:
		var o filestore.MkdirOptions
		switch t {
		case "mkdir", "mkdir-with-children", "mkdir-immutable":
			f, err := q.format(filestore.FormatDefault)
			if err != nil {
				return err
			}
			if f == filestore.FormatCHK && t != "mkdir-immutable" {
				f = filestore.FormatDefault
			}
			o.Format = f
			if t != "mkdir" {
				kids, err := s.childrenJSON(q, t == "mkdir-immutable")
				if err != nil {
					return err
				}
				o.Children = kids
			}
			if t == "mkdir-immutable" {
				o.Format = filestore.FormatCHK
			}
			c, err := s.mkdirNamed(q, n, o)
			if err != nil {
				return err
			}
			// Tahoe then renders the new directory's POST t=...: its cap.
			return s.whenDone(q, c.String())
		}
	}
	return asPage(noSuchChild(n.name))
}

// mkdirNamed creates the missing child n as a directory.
func (s *Server) mkdirNamed(q *request, n *node, o filestore.MkdirOptions) (*caps.Cap, error) {
	if o.Format == filestore.FormatDefault {
		f, err := q.format(filestore.FormatDefault)
		if err != nil {
			return nil, err
		}
		if f != filestore.FormatCHK {
			o.Format = f
		}
	}
	return s.mkdirChild(ctxOf(q), n.parent, n.name, o, overwriteAll)
}

// replaceWithUpload is Tahoe's replace_me_with_a_child: the body as a new
// file (format= decides which) linked as n.name.
func (s *Server) replaceWithUpload(q *request, n *node) error {
	ctx := ctxOf(q)
	ow, err := q.replaceArg(true)
	if err != nil {
		return err
	}
	if err := checkWriteable(n.parent); err != nil {
		return err
	}
	f, err := q.format(filestore.FormatCHK)
	if err != nil {
		return err
	}
	var c *caps.Cap
	if f.Mutable() {
		data, err := q.smallBody(s.o.MaxMutableSize)
		if err != nil {
			return err
		}
		if c, err = s.createMutable(q, data, f); err != nil {
			return err
		}
	} else {
		body, size, err := q.body()
		if err != nil {
			return err
		}
		res, err := s.upload(q, body, size)
		if err != nil {
			return err
		}
		c = res.Cap
	}
	if err := s.setChild(ctx, n.parent, n.name, c, nil, ow); err != nil {
		return err
	}
	code := http.StatusCreated
	if n.cap != nil {
		code = http.StatusOK
	}
	return result(q, code, c.String())
}

// replaceWithCap is Tahoe's replace_me_with_a_childcap: the body is a cap
// to link as n.name.
func (s *Server) replaceWithCap(q *request, n *node, ow overwrite) error {
	b, err := q.smallBody(64 << 10)
	if err != nil {
		return err
	}
	child, err := childFromString(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	if err := s.setChild(ctxOf(q), n.parent, n.name, child, nil, ow); err != nil {
		return err
	}
	return result(q, http.StatusOK, child.String())
}

// childFromString reads a cap given to be linked: an unknown cap is
// accepted only with a ro. or imm. prefix (Tahoe cannot attenuate it).
func childFromString(s string) (*caps.Cap, error) {
	c, err := caps.Parse(s)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if c.IsUnknown() && !strings.HasPrefix(s, caps.PrefixReadOnly) && !strings.HasPrefix(s, caps.PrefixImmutable) {
		return nil, badRequest("MustNotBeUnknownRWError: an operation to add a child was given an unknown cap in a write slot.\nUsing a webapi server that supports a later version of Tahoe may help.")
	}
	return c, nil
}

// upload stores a spooled body as an immutable file.
func (s *Server) upload(q *request, body io.ReaderAt, size int64) (*filestore.UploadResult, error) {
	res, err := s.store.Upload(ctxOf(q), body, size, filestore.UploadOptions{})
	if err != nil {
		return nil, err
	}
	s.stats.filesUploaded.Add(1)
	s.stats.bytesUploaded.Add(size)
	return res, nil
}

// createMutable stores data as a new mutable file of format f.
func (s *Server) createMutable(q *request, data []byte, f filestore.Format) (*caps.Cap, error) {
	key, err := privateKeyArg(q)
	if err != nil {
		return nil, err
	}
	c, err := s.store.CreateMutable(ctxOf(q), data, filestore.MutableOptions{Format: f, Key: key})
	if err != nil {
		return nil, err
	}
	s.countPublish(len(data))
	return c, nil
}

// formUpload is Tahoe's replace_me_with_a_formpost: the form's file as a
// new file linked as name in dir.
func (s *Server) formUpload(q *request, dir *caps.Cap, name string, ow overwrite) (*caps.Cap, error) {
	if !q.hasFile {
		return nil, badRequest("upload requires a file= form field")
	}
	if err := checkWriteable(dir); err != nil {
		return nil, err
	}
	f, err := q.format(filestore.FormatCHK)
	if err != nil {
		return nil, err
	}
	var c *caps.Cap
	if f.Mutable() {
		data, err := q.fileContents(s.o.MaxMutableSize)
		if err != nil {
			return nil, err
		}
		if c, err = s.createMutable(q, data, f); err != nil {
			return nil, err
		}
	} else {
		res, err := s.upload(q, q.file, q.fileSize)
		if err != nil {
			return nil, err
		}
		c = res.Cap
	}
	return c, s.setChild(ctxOf(q), dir, name, c, nil, ow)
}

// serveUnknown handles a cap of a kind this node does not know.
func (s *Server) serveUnknown(q *request, n *node) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		if q.r.Method == http.MethodDelete && n.parent != nil {
			if _, err := s.deleteChild(ctxOf(q), n.parent, n.name); err != nil {
				return err
			}
			return result(q, http.StatusOK, n.cap.Raw)
		}
		return methodNotAllowed(q, "GET", "HEAD")
	}
	switch t := q.t(); t {
	case "json":
		// Tahoe's UnknownJSONMetadata: the slots it can vouch for.
		rw, ro := n.rw, n.ro
		if n.parent == nil {
			rw, ro = "", ""
			if strings.HasPrefix(n.cap.Raw, caps.PrefixReadOnly) || strings.HasPrefix(n.cap.Raw, caps.PrefixImmutable) {
				ro = n.cap.Raw
			}
		}
		o := pyjson.NewDict()
		if ro != "" {
			o.Set("ro_uri", ro)
		}
		switch {
		case rw != "":
			o.Set("rw_uri", rw)
			o.Set("mutable", true)
		case (n.parent != nil && !n.parent.IsMutable()) || strings.HasPrefix(ro, caps.PrefixImmutable):
			o.Set("mutable", false)
		}
		if n.metadata != nil {
			o.Set("metadata", n.metadata)
		}
		return jsonText(q, []any{"unknown", o})
	case "info":
		return s.info(q, n)
	default:
		return badRequest("GET unknown URI type: can only do t=info and t=json, not t=%s.\nUsing a webapi server that supports a later version of Tahoe may help.", t)
	}
}

// result answers what a Tahoe render method returns as a bare string:
// Twisted's default content type, text/html.
func result(q *request, code int, text string) error {
	q.w.Header().Set("Content-Type", "text/html")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	q.w.WriteHeader(code)
	if q.r.Method != http.MethodHead {
		_, _ = io.WriteString(q.w, text)
	}
	return nil
}

// jsonText answers v as json.dumps(v, indent=1) + "\n", text/plain (Tahoe's
// t=json).
func jsonText(q *request, v any) error {
	b := append(pyjson.Dumps(v, 1), '\n')
	return textPlain(q, string(b))
}

// deleteNode is DELETE of a file or directory reached through a parent:
// unlink it there and answer with its cap. A bare cap (no parent) cannot
// be deleted.
func (s *Server) deleteNode(q *request, n *node) error {
	if n.parent == nil {
		return methodNotAllowed(q, "GET", "HEAD", "PUT", "POST")
	}
	if _, err := s.deleteChild(ctxOf(q), n.parent, n.name); err != nil {
		return err
	}
	return result(q, http.StatusOK, n.cap.String())
}
