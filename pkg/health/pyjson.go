package health

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field is one key and value of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object whose keys keep their order, as Python's dicts
// do (encoding/json would sort them).
type Object []Field

// PyJSON renders v as Python's json.dumps does with ensure_ascii: with
// indent >= 0 as json.dumps(v, indent=indent) (one item per line,
// separators "," and ": "), with indent < 0 on one line (separators ", "
// and ": "). Values are Object, []any, []string, []int, [][]any, string,
// int, int64, uint64, bool and nil.
func PyJSON(v any, indent int) string {
	var b strings.Builder
	writePy(&b, v, indent, 0)
	return b.String()
}

func writePy(b *strings.Builder, v any, indent, level int) {
	open := func(ch byte) (sep string, close func()) {
		b.WriteByte(ch)
		end := byte(']')
		if ch == '{' {
			end = '}'
		}
		if indent < 0 {
			return ", ", func() { b.WriteByte(end) }
		}
		pad := "\n" + strings.Repeat(" ", indent*(level+1))
		b.WriteString(pad)
		return "," + pad, func() {
			b.WriteString("\n" + strings.Repeat(" ", indent*level))
			b.WriteByte(end)
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case string:
		writePyString(b, x)
	case Object:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		sep, done := open('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(sep)
			}
			writePyString(b, f.Key)
			b.WriteString(": ")
			writePy(b, f.Value, indent, level+1)
		}
		done()
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		sep, done := open('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(sep)
			}
			writePy(b, e, indent, level+1)
		}
		done()
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writePy(b, a, indent, level)
	case []int:
		a := make([]any, len(x))
		for i, n := range x {
			a[i] = n
		}
		writePy(b, a, indent, level)
	case [][]any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = e
		}
		writePy(b, a, indent, level)
	default:
		panic(fmt.Sprintf("health.PyJSON: unsupported type %T", v))
	}
}

// writePyString quotes s as Python's json module does with ensure_ascii:
// everything outside printable ASCII is a \u escape (surrogate pairs above
// U+FFFF), and '/' '<' '>' '&' stay as they are.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}
