package webapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/lafs/lafs/pkg/filestore"
)

// Bounds on what a client can make the server hold.
const (
	maxFormField  = 64 << 10 // one non-file field of a POST form
	maxFormFields = 256      // fields in one POST form
	maxURLEncoded = 1 << 20  // an application/x-www-form-urlencoded body
)

// request is one web API request: its query arguments, the fields of its
// POST form and the body spooled to a temporary file when it is read.
type request struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	query url.Values
	// form holds the fields of a POST form (multipart or urlencoded); file
	// is its "file" field, spooled.
	form     map[string]string
	file     *os.File
	fileSize int64
	fileName string
	hasFile  bool
	multi    bool // the body was a multipart form
	spools   []*os.File
	prefix   string // the URL's first segment (uri, cap, named, file)
	// raw is the body of an urlencoded POST, read for its fields and
	// still the body (Tahoe reads both).
	raw    []byte
	hasRaw bool
}

func (s *Server) newRequest(w http.ResponseWriter, r *http.Request) (*request, error) {
	q := &request{s: s, w: w, r: r, form: map[string]string{}}
	var err error
	if q.query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		// Twisted's parse_qs skips what it cannot read; so do we.
		q.query = lenientQuery(r.URL.RawQuery)
	}
	if r.Method == http.MethodPost {
		ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "multipart/form-data":
			q.multi = true
			if err := q.readMultipart(params["boundary"]); err != nil {
				return q, err
			}
		case "application/x-www-form-urlencoded":
			b, err := io.ReadAll(io.LimitReader(r.Body, maxURLEncoded+1))
			if err != nil {
				return q, fmt.Errorf("reading the form: %w", err)
			}
			if len(b) > maxURLEncoded {
				return q, errCode(http.StatusRequestEntityTooLarge, "form body too large")
			}
			q.raw, q.hasRaw = b, true
			for k, vs := range lenientQuery(string(b)) {
				if len(vs) > 0 {
					q.form[k] = vs[0]
				}
			}
		}
	}
	return q, nil
}

// lenientQuery parses a query string, skipping malformed pairs.
func lenientQuery(raw string) url.Values {
	out := url.Values{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil {
			out.Add(k, v)
		}
	}
	return out
}

// readMultipart reads a multipart/form-data body: the "file" field is
// spooled to a temporary file, every other field is held (bounded).
func (q *request) readMultipart(boundary string) error {
	if boundary == "" {
		return badRequest("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(q.r.Body, boundary)
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return badRequest("malformed multipart form: %v", err)
		}
		if n >= maxFormFields {
			return errCode(http.StatusRequestEntityTooLarge, "too many form fields")
		}
		name := p.FormName()
		if name == "file" {
			f, size, err := q.spool(p, -1)
			if err != nil {
				return err
			}
			q.file, q.fileSize, q.hasFile = f, size, true
			q.fileName = p.FileName()
			if _, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
				q.fileName = params["filename"] // unlike FileName, keep any directory part: Tahoe does
			}
			if q.fileName == "" {
				q.fileName = "unknown-filename"
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxFormField+1))
		if err != nil {
			return badRequest("malformed multipart form: %v", err)
		}
		if len(b) > maxFormField {
			return errCode(http.StatusRequestEntityTooLarge, "form field %s too large", quoteOutput(name, true))
		}
		if _, dup := q.form[name]; !dup {
			q.form[name] = string(b)
		}
	}
}

// arg returns an argument from the query or, failing that, the POST form
// (Tahoe's get_arg: the query wins).
func (q *request) arg(name string) (string, bool) {
	if vs, ok := q.query[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	v, ok := q.form[name]
	return v, ok
}

// argOr returns arg or def.
func (q *request) argOr(name, def string) string {
	if v, ok := q.arg(name); ok {
		return v
	}
	return def
}

// t is the t= argument, trimmed.
func (q *request) t() string { return strings.TrimSpace(q.argOr("t", "")) }

// spool copies r to a new anonymous temporary file (deleted when the
// request ends) and returns it rewound with its size. limit < 0 means no
// bound; beyond limit the request fails with 413.
func (q *request) spool(r io.Reader, limit int64) (*os.File, int64, error) {
	f, err := os.CreateTemp(q.s.tempDir, "upload-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spooling the request body: %w", err)
	}
	_ = os.Remove(f.Name()) // anonymous, like Tahoe's TemporaryFile
	q.spools = append(q.spools, f)
	src := r
	if limit >= 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the request body: %w", err)
	}
	if limit >= 0 && n > limit {
		return nil, 0, errTooLarge(limit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return f, n, nil
}

func errTooLarge(limit int64) *webError {
	return errCode(http.StatusRequestEntityTooLarge, "FileTooLargeError: this node accepts at most %d bytes here", limit)
}

// body spools the request body (PUT data).
func (q *request) body() (*os.File, int64, error) {
	return q.spool(q.r.Body, -1)
}

// smallBody reads a body that must be held in memory (mutable contents,
// JSON), refusing more than limit bytes.
func (q *request) smallBody(limit int64) ([]byte, error) {
	if q.multi {
		return nil, nil
	}
	if q.hasRaw {
		if int64(len(q.raw)) > limit {
			return nil, errTooLarge(limit)
		}
		return q.raw, nil
	}
	b, err := io.ReadAll(io.LimitReader(q.r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge(limit)
	}
	return b, nil
}

// fileContents reads the form's "file" field into memory (a mutable
// upload), bounded.
func (q *request) fileContents(limit int64) ([]byte, error) {
	if !q.hasFile {
		return nil, badRequest("this operation requires a file= form field")
	}
	if q.fileSize > limit {
		return nil, errTooLarge(limit)
	}
	b := make([]byte, q.fileSize)
	if _, err := io.ReadFull(q.file, b); err != nil {
		return nil, fmt.Errorf("reading the spooled upload: %w", err)
	}
	return b, nil
}

func (q *request) close() {
	for _, f := range q.spools {
		_ = f.Close()
	}
}

// boolArg reads a boolean argument as Tahoe's boolean_of_arg.
func (q *request) boolArg(name string, def bool) (bool, error) {
	v, ok := q.arg(name)
	if !ok {
		return def, nil
	}
	return parseBool(v)
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "t", "1", "on":
		return true, nil
	case "false", "f", "0", "off":
		return false, nil
	}
	return false, badRequest("invalid boolean argument: %s", pyBytesRepr(v))
}

// overwrite is a replace= argument: false, true or only-files.
type overwrite int

const (
	overwriteNone overwrite = iota
	overwriteAll
	overwriteFiles
)

// replaceArg reads replace= as Tahoe's parse_replace_arg (def true).
func (q *request) replaceArg(allowOnlyFiles bool) (overwrite, error) {
	v, ok := q.arg("replace")
	if !ok {
		return overwriteAll, nil
	}
	if allowOnlyFiles && strings.ToLower(v) == "only-files" {
		return overwriteFiles, nil
	}
	b, err := parseBool(v)
	if err != nil {
		if allowOnlyFiles {
			return 0, badRequest("invalid replace= argument: '%s'", v)
		}
		return 0, err
	}
	if b {
		return overwriteAll, nil
	}
	return overwriteNone, nil
}

// format reads format= (and the older mutable=true) as Tahoe's get_format;
// def is what no argument means.
func (q *request) format(def filestore.Format) (filestore.Format, error) {
	v := q.argOr("format", "")
	if v == "" {
		m, err := q.boolArg("mutable", false)
		if err != nil {
			return 0, err
		}
		if m {
			return filestore.FormatSDMF, nil
		}
		return def, nil
	}
	switch strings.ToUpper(v) {
	case "CHK":
		return filestore.FormatCHK, nil
	case "SDMF":
		return filestore.FormatSDMF, nil
	case "MDMF":
		return filestore.FormatMDMF, nil
	}
	return 0, badRequest("Unknown format: %s, I know CHK, SDMF, MDMF", v)
}

// pyBytesRepr renders s as Python's repr of a bytes value (b'...').
func pyBytesRepr(s string) string {
	var b strings.Builder
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	b.WriteString("b")
	b.WriteByte(quote)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
