package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lafs/lafs/pkg/client/dirnode"
)

func TestParseNodeDirectory(t *testing.T) {
	data, err := os.ReadFile("testdata/dir-rw.json")
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseNode(data)
	if err != nil {
		t.Fatal(err)
	}
	if n.Type != TypeDir || !strings.HasPrefix(n.RWURI, "URI:DIR2:") || !strings.HasPrefix(n.ROURI, "URI:DIR2-RO:") ||
		!strings.HasPrefix(n.VerifyURI, "URI:DIR2-Verifier:") || n.Mutable == nil || !*n.Mutable || n.Format != "SDMF" {
		t.Errorf("directory properties: %+v", n)
	}
	if n.Cap() != n.RWURI {
		t.Errorf("Cap() = %q, want the write cap", n.Cap())
	}
	es := n.Entries()
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	// Document order, not sorted order.
	if got := strings.Join(names, ","); got != "zeta.txt,Français,future,mutable" {
		t.Fatalf("children in order %s", got)
	}
	want := []dirnode.Entry{
		{Name: "zeta.txt", ROCap: "URI:CHK:ime6pvkaxuetdfah2p2f35pe54:4btz54xk3tew6nd4y2ojpxj4m6wxjqqlwnztgre6gnjgtucd5r4a:3:10:202",
			Metadata: json.RawMessage(`{"ctime":1202777696.7564139,"mtime":1202777696.7564139,"tahoe":{"linkcrtime":1202777696.7564139,"linkmotime":1202777696.7564139}}`)},
		{Name: "Français", RWCap: "URI:DIR2:auqwm7arjz6svoeo7dvjm6lfla:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka",
			ROCap:    "URI:DIR2-RO:wwo2w4xcvow6hncuvhu54u2t4u:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka",
			Metadata: json.RawMessage(`{"tahoe":{"linkcrtime":1202778102.7589991,"linkmotime":1202778111.2160511}}`)},
		{Name: "future", RWCap: "x-tahoe-crazy://future_cap_format", ROCap: "ro.x-tahoe-crazy-readonly://future_cap_format", Metadata: json.RawMessage(`{}`)},
		{Name: "mutable", RWCap: "URI:SSK:igekqs334yoaoh4yssqgfvn7c4:hztcryltf6y7igd5hhc62lb7e7jkg7e2eaoqgnle5trsxodkj2da",
			ROCap:    "URI:SSK-RO:ady5us63txrpiawufwfqbkzxhq:hztcryltf6y7igd5hhc62lb7e7jkg7e2eaoqgnle5trsxodkj2da",
			Metadata: json.RawMessage(`{"tahoe":{"linkcrtime":1796115678.4779792,"linkmotime":1796115678.4779792}}`)},
	}
	for i := range want {
		g, w := es[i], want[i]
		if g.Name != w.Name || g.RWCap != w.RWCap || g.ROCap != w.ROCap || !bytes.Equal(g.Metadata, w.Metadata) {
			t.Errorf("child %d:\n got %+v (%s)\nwant %+v (%s)", i, g, g.Metadata, w, w.Metadata)
		}
	}
	zeta := n.Children[0].Node
	if zeta.Size == nil || *zeta.Size != 202 || zeta.Format != "CHK" || zeta.Mutable == nil || *zeta.Mutable {
		t.Errorf("zeta.txt: %+v", zeta)
	}
	if m := n.Children[3].Node; m.Size != nil {
		t.Errorf("a null size parsed as %d", *m.Size)
	}
}

func TestParseNode(t *testing.T) {
	u64 := func(v uint64) *uint64 { return &v }
	no := new(bool)
	for _, tc := range []struct {
		name string
		in   string
		want Node
		err  string
	}{
		{name: "unlinked file", in: `["filenode", {"ro_uri": "URI:CHK:a:b:3:10:202", "verify_uri": "URI:CHK-Verifier:c:b:3:10:202", "size": 202, "mutable": false, "format": "CHK"}]`,
			want: Node{Type: TypeFile, ROURI: "URI:CHK:a:b:3:10:202", VerifyURI: "URI:CHK-Verifier:c:b:3:10:202", Size: u64(202), Mutable: no, Format: "CHK"}},
		{name: "linked file with metadata", in: "[\"filenode\",\n {\"ro_uri\": \"URI:LIT:nbswy3dp\", \"size\": 5,\n \"metadata\": {\n  \"tahoe\": {\"linkcrtime\": 1.5e9}\n }}]",
			want: Node{Type: TypeFile, ROURI: "URI:LIT:nbswy3dp", Size: u64(5), Metadata: json.RawMessage(`{"tahoe":{"linkcrtime":1.5e9}}`)}},
		{name: "read-only directory", in: `["dirnode", {"ro_uri": "URI:DIR2-RO:a:b", "children": {"x": ["filenode", {"ro_uri": "URI:LIT:aa", "metadata": {}}]}}]`,
			want: Node{Type: TypeDir, ROURI: "URI:DIR2-RO:a:b", Children: []Child{{Name: "x", Node: Node{Type: TypeFile, ROURI: "URI:LIT:aa", Metadata: json.RawMessage(`{}`)}}}}},
		{name: "unknown", in: `["unknown", {"ro_uri": "imm.x-tahoe-future:abc"}]`,
			want: Node{Type: TypeUnknown, ROURI: "imm.x-tahoe-future:abc"}},
		{name: "nulls are absent", in: `["filenode", {"rw_uri": null, "ro_uri": "URI:LIT:aa", "size": null, "mutable": null, "metadata": null}]`,
			want: Node{Type: TypeFile, ROURI: "URI:LIT:aa"}},
		{name: "unknown keys ignored, extra elements ignored", in: `["filenode", {"ro_uri": "URI:LIT:aa", "future": [1, {"a": 2}]}, "extra"]`,
			want: Node{Type: TypeFile, ROURI: "URI:LIT:aa"}},
		{name: "NFD child names come out NFC", in: `["dirnode", {"children": {"re\u0301sume\u0301": ["filenode", {"ro_uri": "URI:LIT:aa"}]}}]`,
			want: Node{Type: TypeDir, Children: []Child{{Name: "r\u00e9sum\u00e9", Node: Node{Type: TypeFile, ROURI: "URI:LIT:aa"}}}}},
		{name: "a child's children are not read", in: `["dirnode", {"children": {"d": ["dirnode", {"ro_uri": "URI:DIR2-RO:a:b", "children": {"x": 1}}]}}]`,
			want: Node{Type: TypeDir, Children: []Child{{Name: "d", Node: Node{Type: TypeDir, ROURI: "URI:DIR2-RO:a:b"}}}}},

		{name: "not JSON", in: `<html>`, err: "not a [type, properties] list"},
		{name: "an object", in: `{"ro_uri": "x"}`, err: "not a [type, properties] list"},
		{name: "one element", in: `["filenode"]`, err: "a list of 1 elements"},
		{name: "type not a string", in: `[1, {}]`, err: "the type is not a string"},
		{name: "properties not an object", in: `["filenode", []]`, err: "not an object"},
		{name: "size negative", in: `["filenode", {"size": -1}]`, err: `"size"`},
		{name: "size fractional", in: `["filenode", {"size": 1.5}]`, err: `"size"`},
		{name: "size too big", in: `["filenode", {"size": 18446744073709551616}]`, err: `"size"`},
		{name: "ro_uri not a string", in: `["filenode", {"ro_uri": 7}]`, err: `"ro_uri"`},
		{name: "mutable not a bool", in: `["filenode", {"mutable": "yes"}]`, err: `"mutable"`},
		{name: "metadata not an object", in: `["filenode", {"metadata": [1]}]`, err: `"metadata"`},
		{name: "children not an object", in: `["dirnode", {"children": [1]}]`, err: `"children"`},
		{name: "child not a pair", in: `["dirnode", {"children": {"x": "URI:LIT:aa"}}]`, err: `child "x"`},
		{name: "duplicate child", in: `["dirnode", {"children": {"x": ["filenode", {}], "x": ["filenode", {}]}}]`, err: `two children named "x"`},
		{name: "duplicate after NFC", in: `["dirnode", {"children": {"\u00e9": ["filenode", {}], "e\u0301": ["filenode", {}]}}]`, err: "two children named"},
		{name: "trailing garbage", in: `["filenode", {}] x`, err: "not a [type, properties] list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseNode([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrJSON) {
					t.Fatalf("error %v, want one containing %q and matching ErrJSON", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !nodesEqual(*n, tc.want) {
				t.Errorf("got  %s\nwant %s", dump(*n), dump(tc.want))
			}
		})
	}
}

func nodesEqual(a, b Node) bool { return dump(a) == dump(b) }

func dump(n Node) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestParseWelcome(t *testing.T) {
	data, err := os.ReadFile("testdata/welcome.json")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWelcome(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.IntroducerStatuses) != 1 || len(w.Servers) != 3 {
		t.Fatalf("%+v", w)
	}
	s0, s1, s2 := w.Servers[0], w.Servers[1], w.Servers[2]
	if s0.NodeID != "v0-wehdbhwgz2vp4qkfu6iwslp5dmzkkr4lrashdjbkvjpptl5malpa" || s0.Nickname != "storage2" || !s0.Connected() ||
		s0.AvailableSpace == nil || *s0.AvailableSpace != 82455729664 || s0.Version != "tahoe-lafs/1.20.0" || s0.LastReceivedData == nil {
		t.Errorf("server 0: %+v", s0)
	}
	if s1.Connected() || s1.AvailableSpace != nil || s1.Version != "" || s1.LastReceivedData != nil || s1.Nickname != "George ☻" {
		t.Errorf("server 1: %+v", s1)
	}
	if !s2.Connected() {
		t.Errorf("a Foolscap \"Connected to ...\" summary is not connected: %+v", s2)
	}
	for _, bad := range []string{
		`[]`, `{}`, `{"servers": {}}`, `{"servers": [{"available_space": -5}]}`,
		`{"servers": [{"available_space": "lots"}]}`, `{"servers": [{"nodeid": 3}]}`,
	} {
		if _, err := ParseWelcome([]byte(bad)); !errors.Is(err, ErrJSON) {
			t.Errorf("ParseWelcome(%s): %v, want ErrJSON", bad, err)
		}
	}
}

func TestConnected(t *testing.T) {
	for status, want := range map[string]bool{
		"connected": true, "Connected to tcp:x:1 via tcp": true, "Connected via listener (tor)": true,
		"unstarted": false, "Trying to connect": false, "failure: refused": false, "": false, "connecte": false,
		"Reconnecting in 5 seconds (last attempt 2s ago)": false,
	} {
		if got := (WelcomeServer{ConnectionStatus: status}).Connected(); got != want {
			t.Errorf("%q: connected %v, want %v", status, got, want)
		}
	}
}

func TestEncodeChildren(t *testing.T) {
	entries := []dirnode.Entry{
		{Name: "b", ROCap: "URI:LIT:aa"},
		{Name: "re\u0301sume\u0301", RWCap: "URI:DIR2:auqwm7arjz6svoeo7dvjm6lfla:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka",
			ROCap: "URI:DIR2-RO:wwo2w4xcvow6hncuvhu54u2t4u:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka", Metadata: json.RawMessage(`{"note": "x"}`)},
		{Name: "f", ROCap: "ro.x-tahoe-future:1"},
	}
	js, err := EncodeChildren(entries)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":["filenode",{"ro_uri":"URI:LIT:aa"}],` +
		`"résumé":["dirnode",{"rw_uri":"URI:DIR2:auqwm7arjz6svoeo7dvjm6lfla:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka","ro_uri":"URI:DIR2-RO:wwo2w4xcvow6hncuvhu54u2t4u:4qacrfr7rj4ablj3tsz4hp7csygn5ba5rvhwk7vhym5cv4mci3ka","metadata":{"note":"x"}}],` +
		`"f":["unknown",{"ro_uri":"ro.x-tahoe-future:1"}]}`
	if string(js) != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
	// What we write, the t=json parser reads back as the same entries.
	n, err := ParseNode([]byte(`["dirnode", {"children": ` + string(js) + `}]`))
	if err != nil {
		t.Fatal(err)
	}
	back := n.Entries()
	for i, e := range entries {
		e.Name = dirnode.Normalize(e.Name)
		var wantMD []byte
		if e.Metadata != nil {
			var buf bytes.Buffer
			_ = json.Compact(&buf, e.Metadata)
			wantMD = buf.Bytes()
		}
		if back[i].Name != e.Name || back[i].RWCap != e.RWCap || back[i].ROCap != e.ROCap || !bytes.Equal(back[i].Metadata, wantMD) {
			t.Errorf("round trip %d: %+v, want %+v", i, back[i], e)
		}
	}
	for name, bad := range map[string][]dirnode.Entry{
		"empty name":      {{Name: "", ROCap: "URI:LIT:aa"}},
		"slash":           {{Name: "a/b", ROCap: "URI:LIT:aa"}},
		"NUL":             {{Name: "a\x00", ROCap: "URI:LIT:aa"}},
		"duplicate":       {{Name: "a", ROCap: "URI:LIT:aa"}, {Name: "a", ROCap: "URI:LIT:aa"}},
		"duplicate NFC":   {{Name: "\u00e9", ROCap: "URI:LIT:aa"}, {Name: "e\u0301", ROCap: "URI:LIT:aa"}},
		"no cap":          {{Name: "a"}},
		"metadata list":   {{Name: "a", ROCap: "URI:LIT:aa", Metadata: json.RawMessage(`[1]`)}},
		"metadata broken": {{Name: "a", ROCap: "URI:LIT:aa", Metadata: json.RawMessage(`{`)}},
		"invalid UTF-8":   {{Name: "\xff", ROCap: "URI:LIT:aa"}},
	} {
		if _, err := EncodeChildren(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if js, err := EncodeChildren(nil); err != nil || string(js) != "{}" {
		t.Errorf("no children: %s %v", js, err)
	}
}
