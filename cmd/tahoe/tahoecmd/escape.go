package tahoecmd

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// shellEscape shows a name the way GNU ls does on a terminal (its
// "shell-escape" quoting): a name of printable characters as it is, any
// other in single quotes with each control character (or invalid byte) as
// a $'\ooo' piece, so a directory shared with us cannot write escape
// sequences to our terminal. Tahoe's own ls prints names raw; we do so
// too when stdout is not a terminal.
func shellEscape(name string) string {
	if !needsEscape(name) {
		return name
	}
	var b strings.Builder
	open := false
	quote := func(on bool) {
		if on != open {
			b.WriteByte('\'')
			open = on
		}
	}
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size <= 1, !unicode.IsPrint(r) && r != ' ':
			quote(false)
			b.WriteString("$'")
			for _, c := range []byte(name[i : i+size]) {
				switch c {
				case '\n':
					b.WriteString(`\n`)
				case '\t':
					b.WriteString(`\t`)
				case '\r':
					b.WriteString(`\r`)
				default:
					fmt.Fprintf(&b, `\%03o`, c)
				}
			}
			b.WriteByte('\'')
		case r == '\'':
			quote(false)
			b.WriteString(`\'`)
		default:
			quote(true)
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	quote(false)
	return b.String()
}

// needsEscape reports whether a name holds a control character or a byte
// that is not UTF-8.
func needsEscape(name string) bool {
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && size <= 1) || (!unicode.IsPrint(r) && r != ' ') {
			return true
		}
		i += size
	}
	return false
}
