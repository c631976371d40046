package health

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var si = []byte("0123456789abcdef")

const (
	srvA = "v0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	srvB = "v0-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	srvC = "v0-cccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

func unhealthy() *Results {
	r := &Results{
		StorageIndex: si, Summary: "Not Healthy: 3 shares (enc 2-of-4)", Healthy: false, Recoverable: true,
		Happiness: 2, SharesNeeded: 2, SharesExpected: 4, SharesGood: 3, GoodShareHosts: 2,
		RecoverableVersions: 1, ServersResponding: []string{srvC, srvA, srvB},
		Sharemap:      map[string][]string{"0": {srvB, srvA}, "2": {srvA}, "10": {srvB}},
		CorruptShares: []ShareLocator{{Server: srvC, StorageIndex: si, Share: 1}},
	}
	r.Normalize()
	return r
}

func healthy() *Results {
	return &Results{
		StorageIndex: si, Summary: "Healthy", Healthy: true, Recoverable: true,
		Happiness: 2, SharesNeeded: 1, SharesExpected: 2, SharesGood: 2, GoodShareHosts: 2,
		RecoverableVersions: 1, ServersResponding: []string{srvA, srvB},
		Sharemap: map[string][]string{"0": {srvA}, "1": {srvB}},
	}
}

func TestCheckJSONGolden(t *testing.T) {
	golden(t, "check-healthy.json", healthy().JSON())
	golden(t, "check-unhealthy.json", unhealthy().JSON())
	golden(t, "check-lit.json", Literal().JSON())
	crr := &CheckAndRepair{StorageIndex: si, RepairAttempted: true, RepairSuccessful: true, Pre: unhealthy(), Post: healthy()}
	golden(t, "check-repair.json", crr.JSON())
	golden(t, "check-repair-lit.json", LiteralRepair().JSON())
}

func TestCheckTextGolden(t *testing.T) {
	var b bytes.Buffer
	for _, r := range []*Results{healthy(), unhealthy(), Literal()} {
		if err := WriteCheck(&b, r); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "check.txt", b.String())
	b.Reset()
	for _, c := range []*CheckAndRepair{
		{StorageIndex: si, RepairAttempted: true, RepairSuccessful: true, Pre: unhealthy(), Post: healthy()},
		{StorageIndex: si, RepairAttempted: true, Pre: unhealthy(), Post: unhealthy()},
		{StorageIndex: si, Pre: healthy(), Post: healthy()},
	} {
		if err := WriteCheckAndRepair(&b, c); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "check-repair.txt", b.String())
}

func TestDeepPrinterGolden(t *testing.T) {
	var b bytes.Buffer
	p := &DeepPrinter{W: &b, Verbose: true}
	lines := []DeepLine{
		{Path: nil, Type: "directory", StorageIndex: "x", Check: healthy()},
		{Path: []string{"a b"}, Type: "file", StorageIndex: "x", Check: unhealthy()},
		{Path: []string{"sub", "it's"}, Type: "file", Check: Literal()},
		{Path: []string{"odd"}, Type: "unknown"},
		{Path: []string{"sub", "caf\u00e9\n"}, Type: "file", StorageIndex: "x", Check: healthy()},
	}
	for _, l := range lines {
		if err := p.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Done(); err != nil {
		t.Fatal(err)
	}
	if p.Unhealthy() != 1 {
		t.Errorf("unhealthy %d", p.Unhealthy())
	}
	b.WriteString("----\n")
	q := &DeepPrinter{W: &b, Verbose: true, Repairing: true}
	fixed := &CheckAndRepair{StorageIndex: si, RepairAttempted: true, RepairSuccessful: true, Pre: unhealthy(), Post: healthy()}
	failed := &CheckAndRepair{StorageIndex: si, RepairAttempted: true, Pre: unhealthy(), Post: unhealthy()}
	fine := &CheckAndRepair{StorageIndex: si, Pre: healthy(), Post: healthy()}
	for _, l := range []DeepLine{
		{Type: "directory", StorageIndex: "x", Repair: fine},
		{Path: []string{"f"}, Type: "file", StorageIndex: "x", Repair: fixed},
		{Path: []string{"g"}, Type: "file", StorageIndex: "x", Repair: failed},
		{Path: []string{"lit"}, Type: "file", Repair: LiteralRepair()},
	} {
		if err := q.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Done(); err != nil {
		t.Fatal(err)
	}
	if q.Unhealthy() != 1 {
		t.Errorf("post-repair unhealthy %d", q.Unhealthy())
	}
	golden(t, "deep-check.txt", b.String())
}

func TestDeepPrinterProgress(t *testing.T) {
	var b bytes.Buffer
	p := &DeepPrinter{W: &b}
	for i := 0; i < 250; i++ {
		_ = p.Add(DeepLine{Type: "file", Check: Literal()})
	}
	_ = p.Done()
	want := "100 objects checked..\n200 objects checked..\ndone: 250 objects checked, 250 healthy, 0 unhealthy\n"
	if b.String() != want {
		t.Errorf("got %q", b.String())
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, r := range []*Results{healthy(), unhealthy(), Literal()} {
		got, err := ParseResults([]byte(r.JSON()))
		if err != nil {
			t.Fatal(err)
		}
		got.Normalize()
		if got.JSON() != r.JSON() {
			t.Errorf("round trip:\n%s\nvs\n%s", got.JSON(), r.JSON())
		}
	}
	crr := &CheckAndRepair{StorageIndex: si, RepairAttempted: true, RepairSuccessful: true, Pre: unhealthy(), Post: healthy()}
	got, err := ParseCheckAndRepair([]byte(crr.JSON()))
	if err != nil || got.JSON() != crr.JSON() {
		t.Errorf("check-and-repair round trip: %v\n%s", err, got.JSON())
	}
	for _, bad := range []string{`{}`, `[]`, `{"storage-index": "zz", "results": {"healthy": true}}`,
		`{"storage-index": "` + healthy().StorageIndexString() + `", "results": {"healthy": true, "sharemap": {"": []}}}`,
		`{"storage-index": "` + healthy().StorageIndexString() + `", "results": {"healthy": true, "list-corrupt-shares": [["a", "b"]]}}`} {
		if _, err := ParseResults([]byte(bad)); err == nil {
			t.Errorf("ParseResults(%s) succeeded", bad)
		}
	}
}

func TestQuoteOutput(t *testing.T) {
	for _, tc := range []struct {
		in         string
		quotemarks bool
		want       string
	}{
		{"Healthy", false, "Healthy"},
		{"Healthy", true, "'Healthy'"},
		{"", false, ""},
		{`"starts with a quote`, false, `'"starts with a quote'`},
		{"it's", false, `"it's"`},
		{"caf\u00e9", true, "'caf\u00e9'"},
		{"a\nb", true, `"a\x0ab"`},
		{"a\nb", false, "a\nb"},
		{"$x`y\\", true, "'$x`y\\'"},
		{"tab\t$", false, `"tab\x09\$"`},
		{"\u2028", false, "\u2028"},
		{"\ufdd0", false, `"\ufdd0"`},
		{"\U0001F600", false, `"\U0001f600"`},
	} {
		if got := QuoteOutput(tc.in, tc.quotemarks); got != tc.want {
			t.Errorf("QuoteOutput(%q, %v) = %s, want %s", tc.in, tc.quotemarks, got, tc.want)
		}
	}
	if got := QuotePath([]string{"a", "b c"}); got != "'a/b c'" {
		t.Errorf("QuotePath = %s", got)
	}
}

func FuzzParseResults(f *testing.F) {
	f.Add([]byte(unhealthy().JSON()))
	f.Add([]byte(Literal().JSON()))
	f.Add([]byte((&CheckAndRepair{StorageIndex: si, RepairAttempted: true, Pre: unhealthy(), Post: healthy()}).JSON()))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ParseResults(data); err == nil {
			if _, err := ParseResults([]byte(r.JSON())); err != nil {
				t.Fatalf("re-parse of our own JSON: %v", err)
			}
			if !strings.HasSuffix(r.JSON(), "\n") {
				t.Fatal("no newline")
			}
		}
		_, _ = ParseDeepLine(data)
		if c, err := ParseCheckAndRepair(data); err == nil {
			if _, err := ParseCheckAndRepair([]byte(c.JSON())); err != nil {
				t.Fatalf("re-parse of our own JSON: %v", err)
			}
		}
	})
}

func TestParseDeepLine(t *testing.T) {
	l, err := ParseDeepLine([]byte(`{"path": ["a", "b"], "cap": "URI:LIT:mfrgg", "type": "file", "verifycap": "", "repaircap": "", "storage-index": "", "check-results": {"storage-index": "", "results": {"healthy": true}}}`))
	if err != nil || len(l.Path) != 2 || l.Type != "file" || l.Check == nil || !l.Check.IsLiteral() {
		t.Errorf("LIT line: %+v %v", l, err)
	}
	crr := &CheckAndRepair{StorageIndex: si, RepairAttempted: true, RepairSuccessful: true, Pre: unhealthy(), Post: healthy()}
	l, err = ParseDeepLine([]byte(PyJSON(Object{{"path", []string{}}, {"type", "directory"}, {"storage-index", "x"}, {"check-and-repair-results", crr.Object()}}, -1)))
	if err != nil || l.Repair == nil || !l.Repair.RepairSuccessful || l.Repair.Pre.SharesGood != 3 {
		t.Errorf("repair line: %+v %v", l, err)
	}
	if l, err := ParseDeepLine([]byte(`{"type": "stats", "stats": {}}`)); err != nil || l.Type != "stats" {
		t.Errorf("stats line: %+v %v", l, err)
	}
	for _, bad := range []string{`ERROR: boom`, `{"type": "file"}`, `{"type": "file", "check-results": {}}`} {
		if _, err := ParseDeepLine([]byte(bad)); err == nil {
			t.Errorf("ParseDeepLine(%s) succeeded", bad)
		}
	}
}
