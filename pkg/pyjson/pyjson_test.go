package pyjson

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The expected strings are what CPython's json.dumps writes for the same
// values (python3 -c 'import json; print(json.dumps(...))').
func TestPythonJSON(t *testing.T) {
	for _, tc := range []struct {
		in     string
		indent int
		want   string
	}{
		{`1.5`, -1, `1.5`},
		{`1e16`, -1, `1e+16`},
		{`1.5e-5`, -1, `1.5e-05`},
		{`0.0001`, -1, `0.0001`},
		{`1764580000.25`, -1, `1764580000.25`},
		{`1202777696.7564139`, -1, `1202777696.756414`},
		{`100.0`, -1, `100.0`},
		{`-0.0`, -1, `-0.0`},
		{`-0`, -1, `0`},
		{`123456789012345678901234567890`, -1, `123456789012345678901234567890`},
		{`123456789012345680.0`, -1, `1.2345678901234568e+17`},
		{`1e400`, -1, `Infinity`},
		{`"caf\u00e9 \ud83d\ude00 \u007f \u0001 \"q\" \\ /\n\t"`, -1, `"caf\u00e9 \ud83d\ude00 \u007f \u0001 \"q\" \\ /\n\t"`},
		{`{"b":[1,{}],"a":[],"c":{"x":null,"y":true}}`, 1, "{\n \"b\": [\n  1,\n  {}\n ],\n \"a\": [],\n \"c\": {\n  \"x\": null,\n  \"y\": true\n }\n}"},
		{`{"b":[1,{}],"a":[],"c":{"x":null,"y":true}}`, -1, `{"b": [1, {}], "a": [], "c": {"x": null, "y": true}}`},
		{`{"k": 1, "k": 2}`, -1, `{"k": 2}`},
	} {
		v, err := Parse([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := string(Dumps(v, tc.indent)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a" 1}`, `1 2`, `"\ud800`} {
		if _, err := Parse([]byte(bad)); err == nil && bad != `"\ud800` {
			t.Errorf("%q accepted", bad)
		}
	}
	deep := ""
	for range MaxDepth + 2 {
		deep += "["
	}
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("deep nesting accepted")
	}
	if got := string(Dumps(json.RawMessage(`{"tahoe": {"linkcrtime": 1.0}}`), -1)); got != `{"tahoe": {"linkcrtime": 1.0}}` {
		t.Errorf("raw metadata: %s", got)
	}
}

// Literal Objects and the Go types the documents are built from write as
// the Python values they stand for do.
func TestDumpsTypes(t *testing.T) {
	for _, tc := range []struct {
		v      any
		indent int
		want   string
	}{
		{Object{{"a", []any{}}, {"b", Object{}}}, 1, "{\n \"a\": [],\n \"b\": {}\n}"},
		{Object{{"path", []string{"x", "y"}}, {"n", 3}, {"t", true}, {"z", nil}}, -1, `{"path": ["x", "y"], "n": 3, "t": true, "z": null}`},
		{"caf\u00e9 <&> / \"q\" \\ \x01\x7f \U0001F600", -1, `"caf\u00e9 <&> / \"q\" \\ \u0001\u007f \ud83d\ude00"`},
		{"bad \xff utf-8", -1, `"bad \ufffd utf-8"`},
		{[]any{[]any{"s", 1}}, 1, "[\n [\n  \"s\",\n  1\n ]\n]"},
		{[][]any{{"s", int64(-2)}, {uint64(1 << 63)}}, -1, `[["s", -2], [9223372036854775808]]`},
		{[]int{1, 2}, 0, "[\n1,\n2\n]"},
		{Object{{"k", []int{}}}, 2, "{\n  \"k\": []\n}"},
		{NewDict().Set("b", 1.5).Set("a", json.Number("2")), 1, "{\n \"b\": 1.5,\n \"a\": 2\n}"},
		{json.RawMessage(`{"x"`), -1, `null`},
	} {
		if got := string(Dumps(tc.v, tc.indent)); got != tc.want {
			t.Errorf("Dumps(%v, %d) = %s, want %s", tc.v, tc.indent, got, tc.want)
		}
	}
	if got := Quote("é"); got != `"\u00e9"` {
		t.Errorf("Quote: %s", got)
	}
}

// A Dict keeps insertion order through Set, Del and Copy, as a Python
// dict does.
func TestDict(t *testing.T) {
	d := NewDict().Set("a", 1).Set("b", 2).Set("c", 3)
	d.Set("a", 4)
	d.Del("b")
	d.Del("missing")
	c := d.Copy().Set("d", 5)
	if got := string(Dumps(d, -1)); got != `{"a": 4, "c": 3}` {
		t.Errorf("dict: %s", got)
	}
	if got := string(Dumps(c, -1)); got != `{"a": 4, "c": 3, "d": 5}` {
		t.Errorf("copy: %s", got)
	}
	if v, ok := d.Get("c"); !ok || v != 3 || d.Len() != 2 || !reflect.DeepEqual(d.Keys(), []string{"a", "c"}) {
		t.Errorf("get/len/keys: %v %v %d %v", v, ok, d.Len(), d.Keys())
	}
	if _, ok := d.Get("b"); ok {
		t.Error("deleted key still there")
	}
}

// FuzzRoundTrip: Parse never panics, and what Python's json would re-read
// is what Dumps writes: the output parses with encoding/json to the same
// value as the input, compact and indented.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(`{"a": ["filenode", {"ro_uri": "URI:LIT:nruxi", "metadata": {"mtime": 1.5}}]}`))
	f.Add([]byte(`{"caf\u00e9": ["dirnode", {"rw_uri": "URI:DIR2:aa:bb"}], "x": ["unknown", {}]}`))
	f.Add([]byte(`[1, 2.50, -0, 1e400, "\ud83d\ude00", null, true]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := Parse(body)
		if err != nil {
			return
		}
		var a any
		if json.Unmarshal(body, &a) != nil {
			return
		}
		for _, indent := range []int{-1, 1} {
			out := Dumps(v, indent)
			var b any
			if err := json.Unmarshal(out, &b); err != nil {
				t.Fatalf("our JSON does not parse: %v\n%s", err, out)
			}
			// Compared as values: Python reads the integer -0 as 0, and
			// Go's float -0 equals 0, so that is no change.
			if !reflect.DeepEqual(a, b) {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				t.Fatalf("value changed:\n%s\n%s", ja, jb)
			}
		}
	})
}
