package tahoecmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Tahoe's web API writes its t=json bodies with Python's
// json.dumps(obj, indent=1): keys in insertion order, one space of indent
// per level, ", "-free item separators at line ends, ": " after keys, and
// every non-ASCII character escaped. `tahoe ls --json` prints that body as
// it is, so in direct mode we write the same bytes with this small
// encoder.

// pyObject is a JSON object whose keys keep their order.
type pyObject []pyField

// pyField is one key and value of a pyObject.
type pyField struct {
	Key   string
	Value any // string, bool, int64, json.Number, pyObject, []any, nil
}

// pyDumps encodes v as json.dumps(v, indent=1) does.
func pyDumps(v any) string {
	var b strings.Builder
	pyEncode(&b, v, 0)
	return b.String()
}

func pyEncode(b *strings.Builder, v any, level int) {
	nl := func(l int) { b.WriteByte('\n'); b.WriteString(strings.Repeat(" ", l)) }
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[x])
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case json.Number:
		b.WriteString(x.String())
	case string:
		pyString(b, x)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(level + 1)
			pyEncode(b, e, level+1)
		}
		nl(level)
		b.WriteByte(']')
	case pyObject:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(level + 1)
			pyString(b, f.Key)
			b.WriteString(": ")
			pyEncode(b, f.Value, level+1)
		}
		nl(level)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("pyjson: unsupported %T", v))
	}
}

// pyString writes s as Python's json module does with ensure_ascii.
func pyString(b *strings.Builder, s string) {
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
		case r < 0x20 || (r > 0x7e && r != 0x7f):
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// pyParse reads JSON keeping the order of object keys and the text of
// numbers, for re-encoding with pyDumps (a child's link metadata).
func pyParse(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := pyValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func pyValue(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := pyObject{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T", k)
				}
				v, err := pyValue(d)
				if err != nil {
					return nil, err
				}
				o = append(o, pyField{ks, v})
			}
			_, err := d.Token()
			return o, err
		case '[':
			a := []any{}
			for d.More() {
				v, err := pyValue(d)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := d.Token()
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	}
	return t, nil
}
