// Package pyjson writes JSON byte for byte as Python's json.dumps does and
// reads JSON keeping what Python keeps: object key order and number
// literals.
//
// Tahoe-LAFS writes its JSON with json.dumps: keys in insertion order,
// everything outside printable ASCII escaped as \uXXXX (ensure_ascii),
// separators ", " and ": " on one line or "," and ": " with an indent,
// floats as Python's repr. Clients that compare or hash our output see
// Tahoe's bytes.
//
// It owns the encoding only: which keys a document has, and in what order,
// is up to the packages that build them (pkg/health, pkg/webapi).
package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Field is one key and value of an Object. It is an alias of a plain
// struct type so that other packages may write Object literals with
// unkeyed fields ({"key", value}), as Python dict displays read.
type Field = struct {
	Key   string
	Value any
}

// Object is a JSON object written as a literal list of fields, in order
// (encoding/json would sort the keys of a map). Use Dict for an object
// that is built up or changed key by key.
type Object []Field

// Dict is a JSON object whose keys keep their insertion order, like a
// Python dict. The zero value is not usable; make one with NewDict.
type Dict struct {
	keys []string
	vals map[string]any
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{vals: map[string]any{}} }

// Set adds or replaces key; a new key goes last, as in a Python dict.
// It returns d, so calls chain.
func (d *Dict) Set(key string, v any) *Dict {
	if _, ok := d.vals[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.vals[key] = v
	return d
}

// Get returns the value of key and whether it is there.
func (d *Dict) Get(key string) (any, bool) {
	v, ok := d.vals[key]
	return v, ok
}

// Del removes key, if it is there.
func (d *Dict) Del(key string) {
	if _, ok := d.vals[key]; !ok {
		return
	}
	delete(d.vals, key)
	for i, k := range d.keys {
		if k == key {
			d.keys = append(d.keys[:i], d.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in order. The caller must not change the slice.
func (d *Dict) Keys() []string { return d.keys }

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Copy is a shallow copy (Python's dict.copy).
func (d *Dict) Copy() *Dict {
	c := &Dict{keys: append([]string(nil), d.keys...), vals: make(map[string]any, len(d.vals))}
	for k, v := range d.vals {
		c.vals[k] = v
	}
	return c
}

// MaxDepth bounds the nesting of the JSON that Parse reads.
const MaxDepth = 64

// ErrDepth is the error of Parse for JSON nested deeper than MaxDepth.
var ErrDepth = errors.New("JSON nested too deeply")

// Parse reads one JSON value as Python's json.loads would see it: objects
// are *Dict in key order (a repeated key keeps its first place and its
// last value), numbers are json.Number literals as written, strings,
// bools and null are string, bool and nil, arrays []any. Trailing data is
// an error.
func Parse(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("extra data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // string, json.Number, bool, nil
	}
}

// Dumps writes v as Python's json.dumps does with ensure_ascii: with
// indent >= 0 as json.dumps(v, indent=indent) (one item per line,
// separators "," and ": "), with indent < 0 on one line (separators ", "
// and ": "). Values are Object, *Dict, []any, []string, []int, [][]any,
// string, json.Number (see Number), json.RawMessage (re-read with Parse;
// null if it does not parse), int, int64, uint64, float64 (see Float),
// bool and nil; any other type is a programming error and panics.
func Dumps(v any, indent int) []byte {
	var b bytes.Buffer
	write(&b, v, indent, 0)
	return b.Bytes()
}

// newline starts a new line indented for level, or with indent < 0 writes
// the space of the one-line separators.
func newline(b *bytes.Buffer, indent, level int) {
	b.WriteByte('\n')
	for i := 0; i < indent*level; i++ {
		b.WriteByte(' ')
	}
}

// item writes what goes before the i'th item of a container at level.
func item(b *bytes.Buffer, i, indent, level int) {
	if i > 0 {
		b.WriteByte(',')
		if indent < 0 {
			b.WriteByte(' ')
		}
	}
	if indent >= 0 {
		newline(b, indent, level+1)
	}
}

// end closes a non-empty container at level.
func end(b *bytes.Buffer, ch byte, indent, level int) {
	if indent >= 0 {
		newline(b, indent, level)
	}
	b.WriteByte(ch)
}

func write(b *bytes.Buffer, v any, indent, level int) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(Number(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(t, 10))
	case float64:
		b.WriteString(Float(t))
	case json.RawMessage:
		p, err := Parse(t)
		if err != nil {
			b.WriteString("null")
			return
		}
		write(b, p, indent, level)
	case Object:
		if len(t) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, f := range t {
			item(b, i, indent, level)
			writeString(b, f.Key)
			b.WriteString(": ")
			write(b, f.Value, indent, level+1)
		}
		end(b, '}', indent, level)
	case *Dict:
		if len(t.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range t.keys {
			item(b, i, indent, level)
			writeString(b, k)
			b.WriteString(": ")
			write(b, t.vals[k], indent, level+1)
		}
		end(b, '}', indent, level)
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range t {
			item(b, i, indent, level)
			write(b, e, indent, level+1)
		}
		end(b, ']', indent, level)
	case []string:
		write(b, toAny(t), indent, level)
	case []int:
		write(b, toAny(t), indent, level)
	case [][]any:
		write(b, toAny(t), indent, level)
	default:
		panic(fmt.Sprintf("pyjson.Dumps: unsupported type %T", v))
	}
}

func toAny[T any](s []T) []any {
	a := make([]any, len(s))
	for i, e := range s {
		a[i] = e
	}
	return a
}

// Number writes a JSON number as Python's json module re-writes what it
// read: an integer as it is (Python's ints are exact; "-0" is 0), anything
// else as the repr of the float it reads as.
func Number(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return Float(f)
}

// Float formats a float as Python's repr does: the shortest form that
// reads back exactly, scientific below 1e-4 and from 1e16 on, and
// Infinity, -Infinity and NaN as json.dumps writes them.
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	if f != 0 {
		if a := math.Abs(f); a < 1e-4 || a >= 1e16 {
			return strconv.FormatFloat(f, 'e', -1, 64) // 1e+16, 1.5e-05, as Python
		}
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(out, ".") {
		out += ".0"
	}
	return out
}

// Quote returns s as a JSON string as Python's json module writes it with
// ensure_ascii: everything outside printable ASCII is a \u escape
// (surrogate pairs above U+FFFF, U+FFFD for bytes that are not UTF-8), and
// '/' '<' '>' '&' stay as they are.
func Quote(s string) string {
	var b bytes.Buffer
	writeString(&b, s)
	return b.String()
}

const hexDigits = "0123456789abcdef"

func writeString(b *bytes.Buffer, s string) {
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
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				writeU(b, r1)
				writeU(b, r2)
			} else {
				writeU(b, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func writeU(b *bytes.Buffer, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[r>>12&0xf])
	b.WriteByte(hexDigits[r>>8&0xf])
	b.WriteByte(hexDigits[r>>4&0xf])
	b.WriteByte(hexDigits[r&0xf])
}
