package webapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/filestore"
)

// webError is an error with the status and text Tahoe answers for it.
// page selects Twisted's HTML error page (what Tahoe sends for a failure
// found while walking the URL's path) instead of a text/plain body (a
// failure while rendering).
type webError struct {
	code  int
	text  string
	page  bool
	brief string // the error page's title ("Error" when empty)
}

func (e *webError) Error() string { return e.text }

// badRequest is Tahoe's WebError with its default code.
func badRequest(format string, a ...any) *webError {
	return &webError{code: http.StatusBadRequest, text: fmt.Sprintf(format, a...)}
}

func errCode(code int, format string, a ...any) *webError {
	return &webError{code: code, text: fmt.Sprintf(format, a...)}
}

// asPage marks an error as found on the way down the path.
func asPage(err error) error {
	var we *webError
	if errors.As(err, &we) {
		c := *we
		c.page = true
		return &c
	}
	return &pageError{err}
}

type pageError struct{ err error }

func (e *pageError) Error() string { return e.err.Error() }
func (e *pageError) Unwrap() error { return e.err }

// Tahoe's texts for the errors it knows (allmydata.web.common).
const (
	textExists = "There was already a child by that name, and you asked me to not replace it."
	textEmpty  = "The webapi does not allow empty pathname components, i.e. a double slash"
)

func noSuchChild(name string) *webError {
	return &webError{code: http.StatusNotFound, text: "No such child: " + quoteOutput(name, false)}
}

// humanize gives the status and text for err, as Tahoe's
// humanize_exception does; unknown errors are 500 with their message.
func humanize(err error) (int, string, bool) {
	var we *webError
	if errors.As(err, &we) {
		return we.code, we.text, we.page
	}
	var pe *pageError
	page := errors.As(err, &pe)
	var chkNES *chk.NotEnoughSharesError
	var mutNES *mutable.NotEnoughSharesError
	switch {
	case errors.Is(err, filestore.ErrExists):
		return http.StatusConflict, textExists, page
	case errors.Is(err, filestore.ErrNotFound):
		return http.StatusNotFound, "No such child: " + err.Error(), page
	case errors.As(err, &chkNES):
		if chkNES.Found == 0 {
			return http.StatusGone, "NoSharesError: no shares could be found. Zero shares usually indicates a corrupt URI, or that no servers were connected, but it might also indicate severe corruption. You should perform a filecheck on this object to learn more.\n\nThe full error message is:\n" + err.Error(), page
		}
		return http.StatusGone, "NotEnoughSharesError: This indicates that some servers were unavailable, or that shares have been lost to server departure, hard drive failure, or disk corruption. You should perform a filecheck on this object to learn more.\n\nThe full error message is:\n" + err.Error(), page
	case errors.As(err, &mutNES):
		return http.StatusGone, "UnrecoverableFileError: the directory (or mutable file) could not be retrieved, because there were insufficient good shares. This might indicate that no servers were connected, insufficient servers were connected, the URI was corrupt, or that shares have been lost due to server departure, hard drive failure, or disk corruption. You should perform a filecheck on this object to learn more.", page
	case errors.Is(err, filestore.ErrReadOnly):
		return http.StatusBadRequest, "NotWriteableError: " + err.Error(), page
	case errors.Is(err, filestore.ErrUncoordinated):
		return http.StatusConflict, "UncoordinatedWriteError: " + err.Error(), page
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, err.Error(), page
	}
	return http.StatusInternalServerError, err.Error(), page
}

// writeError answers err as Tahoe does: Twisted's HTML error page for a
// failure on the path, text/plain otherwise.
func writeError(w http.ResponseWriter, err error) {
	code, text, page := humanize(err)
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Range")
	h.Del("Content-Disposition")
	h.Del("Content-Encoding")
	if page {
		brief := "Error"
		var we *webError
		if errors.As(err, &we) && we.brief != "" {
			brief = we.brief
		}
		writeErrorPage(w, code, brief, text)
		return
	}
	h.Set("Content-Type", "text/plain;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(text))
}

// writeErrorPage writes Twisted's ErrorPage (escaped, unlike Twisted's
// deprecated one, which let HTML through).
func writeErrorPage(w http.ResponseWriter, code int, brief, detail string) {
	body := fmt.Sprintf("\n<html>\n  <head><title>%d - %s</title></head>\n  <body>\n    <h1>%s</h1>\n    <p>%s</p>\n  </body>\n</html>\n",
		code, escapeText(brief), escapeText(brief), escapeText(detail))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// escapeText escapes what would let text open markup in HTML element
// content (&, <, >), leaving quotes as Twisted writes them.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// quoteOutput quotes a name as Tahoe's quote_output does for UTF-8
// output: 'name' when it is printable and has no quote or backslash,
// otherwise "..." with Python's escapes. quotemarks false leaves the
// simple case bare.
func quoteOutput(s string, quotemarks bool) string {
	simple := utf8.ValidString(s)
	for _, r := range s {
		if r == '\'' || r == '"' || r == '\\' || r == '$' || r == '`' || !unicode.IsPrint(r) {
			simple = false
			break
		}
	}
	if simple {
		if !quotemarks {
			return s
		}
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '"', r == '\\', r == '$', r == '`':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !unicode.IsPrint(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}
