package tahoecmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// tahoeHTTPError reports err as Tahoe's CLI reports an HTTP error from
// its node (common_http.format_http_error): "PREFIX: 404 Not Found", a
// newline, the repr of the response body (b'...'), all through
// quote_output, on stderr, with exit status code (code < 0: the HTTP
// status's low byte, as Tahoe's ls, which exits with the status, gets
// from the OS). Errors that are not a
// node's HTTP answer (gateway.StatusError) are returned as they are.
func tahoeHTTPError(f *command.Factory, prefix string, code int, err error) error {
	var se *gateway.StatusError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	fmt.Fprintln(f.IO.Err, formatHTTPError(prefix, se))
	if code < 0 {
		code = se.Code & 0xff
	}
	return command.Reported(code)
}

// formatHTTPError is Tahoe's format_http_error text for se.
func formatHTTPError(prefix string, se *gateway.StatusError) string {
	return health.QuoteOutput(fmt.Sprintf("%s: %d %s\n%s", prefix, se.Code, se.Reason, pyBytesRepr(se.Body)), false)
}

// pyBytesRepr is Python's repr of a bytes value: b'...' (b"..." when it
// holds a ' and no "), with \\, \n, \r, \t and \xNN escapes.
func pyBytesRepr(b []byte) string {
	s := string(b)
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var out strings.Builder
	out.WriteString("b")
	out.WriteByte(quote)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == quote || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\r':
			out.WriteString(`\r`)
		case c == '\t':
			out.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\x%02x`, c)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(quote)
	return out.String()
}
