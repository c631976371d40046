package webapi

import (
	"encoding/json"
	"testing"

	"github.com/lafs/lafs/pkg/pyjson"
)

func TestUpdateMetadata(t *testing.T) {
	obj := func(s string) *pyjson.Dict {
		v, err := pyjson.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*pyjson.Dict)
	}
	now := json.Number("1700000000.5")
	for _, tc := range []struct{ old, repl, want string }{
		{"", "", `{"tahoe": {"linkcrtime": 1700000000.5, "linkmotime": 1700000000.5}}`},
		{`{"tahoe": {"linkcrtime": 1.0, "linkmotime": 2.0}, "x": 1}`, "", `{"tahoe": {"linkcrtime": 1.0, "linkmotime": 1700000000.5}, "x": 1}`},
		{`{"tahoe": {"linkcrtime": 1.0}}`, `{"mtime": 5, "tahoe": {"linkcrtime": 9}}`, `{"mtime": 5, "tahoe": {"linkcrtime": 1.0, "linkmotime": 1700000000.5}}`},
		{`{"ctime": 3.5}`, `{"m": 1}`, `{"m": 1, "tahoe": {"linkcrtime": 3.5, "linkmotime": 1700000000.5}}`},
	} {
		var old, repl *pyjson.Dict
		if tc.old != "" {
			old = obj(tc.old)
		}
		if tc.repl != "" {
			repl = obj(tc.repl)
		}
		if got := string(pyjson.Dumps(updateMetadata(old, repl, now), -1)); got != tc.want {
			t.Errorf("old %s repl %s: %s, want %s", tc.old, tc.repl, got, tc.want)
		}
	}
}
