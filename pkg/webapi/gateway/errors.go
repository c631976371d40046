package gateway

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/lafs/lafs/pkg/filestore"
)

// StatusError is a web API call the node answered with an error status.
// It matches (errors.Is) the filestore sentinel the status and message
// stand for, if any.
type StatusError struct {
	// Op says what was being done, without caps ("read directory",
	// "link \"name\"").
	Op string
	// Code is the HTTP status code and Status its line ("404 Not Found").
	Code   int
	Status string
	// Message is Tahoe's explanation, on one line, caps cut to their
	// prefix.
	Message string
	// Reason is the reason phrase the node sent ("Not Found") and Body
	// the start (up to 64 KiB) of the error body as it came: what Tahoe's
	// CLI prints (format_http_error). Body may hold caps: never log it.
	Reason string
	Body   []byte
	kind   error
}

// Error is "OP: STATUS: MESSAGE" on one line.
func (e *StatusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Status, msg)
}

// Unwrap returns the filestore sentinel the error stands for (nil when
// none does).
func (e *StatusError) Unwrap() error { return e.kind }

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// newStatusError describes an error response from its status, content
// type and (the start of) its body.
func newStatusError(op string, code int, contentType string, body []byte) *StatusError {
	msg := errorMessage(contentType, body)
	return &StatusError{Op: op, Code: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), Message: msg,
		Reason: http.StatusText(code), Body: body, kind: classify(code, msg)}
}

// classify maps a status and Tahoe's message to a filestore sentinel.
// Tahoe answers a write through a read cap with a 400 ("... read-only
// cap") or with a 500 carrying NotWriteableError, depending on the
// operation; a path through a file with a 400 "Files have no children"
// or a 409 "a file was in the way".
func classify(code int, msg string) error {
	switch {
	case strings.Contains(msg, "UncoordinatedWriteError"):
		return filestore.ErrUncoordinated
	case strings.Contains(msg, "NotWriteableError"), strings.Contains(msg, "NotMutableError"),
		strings.Contains(msg, "read-only cap"), strings.Contains(msg, "read-only directory"):
		return filestore.ErrReadOnly
	case strings.Contains(msg, "Files have no children"), strings.Contains(msg, "a file was in the way"),
		strings.Contains(msg, "not a directory"):
		return filestore.ErrNotDirectory
	case code == http.StatusNotFound, strings.Contains(msg, "NoSuchChildError"):
		return filestore.ErrNotFound
	case code == http.StatusConflict, strings.Contains(msg, "ExistingChildError"):
		return filestore.ErrExists
	}
	return nil
}

// errorMessage extracts Tahoe's explanation from an error body: plain
// text as it is, the title and paragraph of an HTML error page, or the
// last line of a Python traceback (the exception, module path cut). The
// result is one line, at most 500 bytes, with caps cut to their prefix.
func errorMessage(contentType string, body []byte) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	trimmed := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(trimmed, "Traceback"):
		s = tracebackMessage(trimmed)
	case strings.Contains(strings.ToLower(contentType), "html") || strings.HasPrefix(trimmed, "<"):
		s = htmlMessage(trimmed)
	}
	// Joined into one line first, so that what the joining puts beside a
	// "URI:" is scrubbed too; then cut to length.
	return oneLine(scrubCaps(oneLine(s, len(s))), 500)
}

func tracebackMessage(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "File ") || strings.HasPrefix(l, "---") {
			continue
		}
		l = strings.TrimPrefix(l, "Failure: ")
		// "allmydata.mutable.common.NotWriteableError: text" → "NotWriteableError: text"
		if colon := strings.Index(l, ":"); colon > 0 && !strings.ContainsAny(l[:colon], " ") {
			exc := l[:colon]
			if dot := strings.LastIndexByte(exc, '.'); dot >= 0 {
				exc = exc[dot+1:]
			}
			rest := strings.TrimSpace(l[colon+1:])
			if rest == "" {
				return exc
			}
			return exc + ": " + rest
		}
		return l
	}
	return s
}

func htmlMessage(page string) string {
	s := page
	title := strings.TrimSpace(between(s, "<title>", "</title>"))
	if i := strings.Index(title, " - "); i > 0 && isDigits(title[:i]) {
		title = title[i+3:]
	}
	para := strings.TrimSpace(stripTags(between(s, "<p>", "</p>")))
	switch {
	case para == "" || para == "no details":
		s = title
	case title == "" || title == "Error":
		s = para
	default:
		s = title + ": " + para
	}
	if s == "" {
		s = stripTags(page)
	}
	return html.UnescapeString(s)
}

func between(s, open, closing string) string {
	i := strings.Index(strings.ToLower(s), open)
	if i < 0 {
		return ""
	}
	s = s[i+len(open):]
	if j := strings.Index(strings.ToLower(s), closing); j >= 0 {
		return s[:j]
	}
	return s
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// oneLine joins lines with spaces (paragraphs with ": "), squeezes
// spaces and cuts to max bytes on a rune boundary.
func oneLine(s string, max int) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n\n", ": ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// scrubCaps replaces every "URI:KIND:secret..." in s by "URI:KIND:…", so
// that a cap a node puts in its message never reaches a log.
func scrubCaps(s string) string {
	if !strings.Contains(s, "URI:") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "URI:")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+4:]
		end := strings.IndexFunc(rest, capEnd)
		if end < 0 {
			end = len(rest)
		}
		tok := rest[:end]
		kind := tok
		if c := strings.IndexByte(tok, ':'); c >= 0 {
			kind = tok[:c]
		}
		if tok == "" {
			b.WriteString("URI:")
		} else {
			b.WriteString("URI:" + kind + ":…")
		}
		s = rest[end:]
	}
}

// capEnd reports whether r ends a cap quoted in a message.
func capEnd(r rune) bool {
	return r == ' ' || r == '\'' || r == '"' || r == '\n' || r == '\t' || r == '<' || r == ')' || r == ','
}
