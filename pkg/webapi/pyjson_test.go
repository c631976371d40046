package webapi

import (
	"encoding/json"
	"testing"
)

// The expected strings are what CPython's json.dumps writes for the same
// values (python3 -c 'import json; print(json.dumps(...))').
func TestPythonJSON(t *testing.T) {
	for _, tc := range []struct {
		in     string
		indent bool
		want   string
	}{
		{`1.5`, false, `1.5`},
		{`1e16`, false, `1e+16`},
		{`1.5e-5`, false, `1.5e-05`},
		{`0.0001`, false, `0.0001`},
		{`1764580000.25`, false, `1764580000.25`},
		{`1202777696.7564139`, false, `1202777696.756414`},
		{`100.0`, false, `100.0`},
		{`-0.0`, false, `-0.0`},
		{`-0`, false, `0`},
		{`123456789012345678901234567890`, false, `123456789012345678901234567890`},
		{`123456789012345680.0`, false, `1.2345678901234568e+17`},
		{`1e400`, false, `Infinity`},
		{`"caf\u00e9 \ud83d\ude00 \u007f \u0001 \"q\" \\ /\n\t"`, false, `"caf\u00e9 \ud83d\ude00 \u007f \u0001 \"q\" \\ /\n\t"`},
		{`{"b":[1,{}],"a":[],"c":{"x":null,"y":true}}`, true, "{\n \"b\": [\n  1,\n  {}\n ],\n \"a\": [],\n \"c\": {\n  \"x\": null,\n  \"y\": true\n }\n}"},
		{`{"b":[1,{}],"a":[],"c":{"x":null,"y":true}}`, false, `{"b": [1, {}], "a": [], "c": {"x": null, "y": true}}`},
		{`{"k": 1, "k": 2}`, false, `{"k": 2}`},
	} {
		v, err := parseJSON([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := string(pyDumps(v, tc.indent)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a" 1}`, `1 2`, `"\ud800`} {
		if _, err := parseJSON([]byte(bad)); err == nil && bad != `"\ud800` {
			t.Errorf("%q accepted", bad)
		}
	}
	deep := ""
	for range maxJSONDepth + 2 {
		deep += "["
	}
	if _, err := parseJSON([]byte(deep)); err == nil {
		t.Error("deep nesting accepted")
	}
	if got := string(pyDumps(json.RawMessage(`{"tahoe": {"linkcrtime": 1.0}}`), false)); got != `{"tahoe": {"linkcrtime": 1.0}}` {
		t.Errorf("raw metadata: %s", got)
	}
}

func TestUpdateMetadata(t *testing.T) {
	obj := func(s string) *object {
		v, err := parseJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*object)
	}
	now := json.Number("1700000000.5")
	for _, tc := range []struct{ old, repl, want string }{
		{"", "", `{"tahoe": {"linkcrtime": 1700000000.5, "linkmotime": 1700000000.5}}`},
		{`{"tahoe": {"linkcrtime": 1.0, "linkmotime": 2.0}, "x": 1}`, "", `{"tahoe": {"linkcrtime": 1.0, "linkmotime": 1700000000.5}, "x": 1}`},
		{`{"tahoe": {"linkcrtime": 1.0}}`, `{"mtime": 5, "tahoe": {"linkcrtime": 9}}`, `{"mtime": 5, "tahoe": {"linkcrtime": 1.0, "linkmotime": 1700000000.5}}`},
		{`{"ctime": 3.5}`, `{"m": 1}`, `{"m": 1, "tahoe": {"linkcrtime": 3.5, "linkmotime": 1700000000.5}}`},
	} {
		var old, repl *object
		if tc.old != "" {
			old = obj(tc.old)
		}
		if tc.repl != "" {
			repl = obj(tc.repl)
		}
		if got := string(pyDumps(updateMetadata(old, repl, now), false)); got != tc.want {
			t.Errorf("old %s repl %s: %s, want %s", tc.old, tc.repl, got, tc.want)
		}
	}
}
