package health

import (
	"fmt"
	"strings"
)

// QuoteOutput quotes s for a terminal as Tahoe's quote_output does: with
// quotemarks, always in quotes; without, only when needed. A string of
// printable characters (no quote mark ' and, with quotemarks, no newline)
// goes in single quotes as it is; anything else in double quotes with
// Python-style backslash escapes ("\x07", "\u2028", "\U0001f600", and
// \" \$ \` \\).
func QuoteOutput(s string, quotemarks bool) string {
	return quote(s, quotemarks, quotemarks)
}

// QuotePath quotes a path's names joined with "/" as Tahoe's quote_path
// does (always quoted, newlines escaped).
func QuotePath(path []string) string {
	return quote(strings.Join(path, "/"), true, true)
}

// plain reports whether r may appear unescaped (Tahoe's MUST_DOUBLE_QUOTE
// complement; newline only when quoteNewlines is off).
func plain(r rune, quoteNewlines bool) bool {
	switch {
	case r == '\n':
		return !quoteNewlines
	case r >= 0x20 && r <= 0x26, r >= 0x28 && r <= 0x7e:
		return true
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfdcf, r >= 0xfdf0 && r <= 0xfffc:
		return true
	}
	return false
}

// unescaped reports whether r stays as it is inside double quotes.
func unescaped(r rune) bool {
	switch {
	case r == ' ' || r == '!' || r == '#':
		return true
	case r >= 0x25 && r <= 0x5b, r >= 0x5d && r <= 0x5f, r >= 0x61 && r <= 0x7e:
		return true
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfdcf, r >= 0xfdf0 && r <= 0xfffc:
		return true
	}
	return false
}

func quote(s string, quotemarks, quoteNewlines bool) string {
	double := false
	for _, r := range s {
		if !plain(r, quoteNewlines) {
			double = true
			break
		}
	}
	if !double {
		if quotemarks || strings.HasPrefix(s, `"`) {
			return "'" + s + "'"
		}
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '$' || r == '`' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n' && !quoteNewlines:
			b.WriteRune(r)
		case unescaped(r):
			b.WriteRune(r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case r > 0xff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\x%02x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// QuotePathPlain quotes a "/"-joined path as Tahoe's quote_path(path,
// quotemarks=False) does: as it is unless it needs double quotes (newlines
// are escaped).
func QuotePathPlain(joined string) string {
	return quote(joined, false, true)
}
