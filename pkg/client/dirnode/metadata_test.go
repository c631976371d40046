package dirnode

import (
	"encoding/json"
	"testing"
	"time"
)

// checkMetadata: the quick readings of md agree with encoding/json's.
func checkMetadata(t *testing.T, md []byte) {
	t.Helper()
	if got, want := validMetadata(md), json.Valid(md); got != want {
		t.Errorf("%q: valid %v, encoding/json says %v", md, got, want)
	}
	gt, gok := LinkMoTime(md)
	wt, wok := linkMoTimeJSON(md)
	if gt != wt || gok != wok {
		t.Errorf("%q: linkmotime %v %v, encoding/json says %v %v", md, gt, gok, wt, wok)
	}
}

var metadataCases = []string{
	`{"tahoe": {"linkcrtime": 1764590000.123456, "linkmotime": 1764590001.5}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 2}}`,
	`{"tahoe": {"linkcrtime": -0, "linkmotime": 0}}`,
	`{"tahoe": {"linkcrtime": 1e5, "linkmotime": 1E+5}}`,
	`{"tahoe": {"linkcrtime": 1.5e-3, "linkmotime": 2.0e0}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 1e400}}`,
	`{"tahoe": {"linkcrtime": 01, "linkmotime": 2}}`,
	`{"tahoe": {"linkcrtime": 1., "linkmotime": 2}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": .5}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 1e}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": -}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": +1}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 2}} `,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 2}}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": 2}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": "2"}}`,
	`{"tahoe": {"linkcrtime": 1, "linkmotime": null}}`,
	`{"tahoe": {"linkmotime": 2, "linkcrtime": 1}}`,
	`{"tahoe":{"linkcrtime":1,"linkmotime":2}}`,
	`{"TAHOE": {"LinkMoTime": 3}}`,
	`{"tahoe": "x"}`,
	`{"ctime": 1, "mtime": 2, "tahoe": {"linkcrtime": 1, "linkmotime": 2}}`,
	`{}`,
	`[]`,
	`not json`,
	``,
}

func TestMetadataQuickReadings(t *testing.T) {
	for _, md := range metadataCases {
		checkMetadata(t, []byte(md))
	}
	for _, sec := range []int64{0, 1, 1764590000, 4102444800} {
		for _, ns := range []int64{0, 1, 123456789, 999999999} {
			md := NewMetadata(time.Unix(sec, ns))
			if _, ok := linkTimes(md); !ok {
				t.Errorf("%s: not read quickly", md)
			}
			checkMetadata(t, md)
		}
	}
}

func FuzzMetadata(f *testing.F) {
	for _, md := range metadataCases {
		f.Add([]byte(md))
	}
	f.Fuzz(func(t *testing.T, md []byte) { checkMetadata(t, md) })
}

// TestParseOwnsItsMemory: entries share no memory with the contents they
// were parsed from, nor one entry's metadata with the next one's.
func TestParseOwnsItsMemory(t *testing.T) {
	wk := []byte("0123456789abcdef")
	es := []Entry{
		{Name: "a", ROCap: "URI:LIT:mfrggzdfmztwq2lk", Metadata: json.RawMessage(`{"k": 1}`)},
		{Name: "b", RWCap: "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", ROCap: "URI:SSK-RO:x", Metadata: json.RawMessage(`{"k": 2}`)},
	}
	packed, err := Pack(es, wk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(packed, wk)
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	for i := range packed {
		packed[i] = 'x'
	}
	got[0].Metadata = append(got[0].Metadata, "trailing"...)
	for i, e := range got {
		want := es[i]
		if i == 0 {
			want.Metadata = json.RawMessage(`{"k": 1}trailing`)
		}
		if e.Name != want.Name || e.RWCap != want.RWCap || e.ROCap != want.ROCap || string(e.Metadata) != string(want.Metadata) {
			t.Errorf("entry %d: %+v, want %+v", i, e, want)
		}
	}
}
