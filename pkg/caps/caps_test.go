package caps

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

type vectorCase struct {
	ID           string  `json:"id"`
	Kind         string  `json:"kind"`
	Cap          string  `json:"cap"`
	Readonly     *string `json:"readonly"`
	Verify       *string `json:"verify"`
	StorageIndex *string `json:"storage_index"`
	IsMutable    bool    `json:"is_mutable"`
	IsReadonly   bool    `json:"is_readonly"`
	Size         *uint64 `json:"size"`
	VerifyError  *string `json:"verify_error"`
	DeepImm      struct {
		Unknown    bool    `json:"unknown"`
		ErrorClass *string `json:"error_class"`
	} `json:"deep_immutable"`
}

type parseResult struct {
	Class        string       `json:"class"`
	Unknown      bool         `json:"unknown"`
	ErrorClass   *string      `json:"error_class"`
	ToString     *string      `json:"to_string"`
	Readonly     *string      `json:"readonly"`
	Verify       *string      `json:"verify"`
	StorageIndex *string      `json:"storage_index"`
	IsMutable    bool         `json:"is_mutable"`
	IsReadonly   bool         `json:"is_readonly"`
	Size         *json.Number `json:"size"`
	Raises       string       `json:"raises"`
}

type parseCase struct {
	ID       string          `json:"id"`
	Note     string          `json:"note"`
	Input    json.RawMessage `json:"input"`
	InputB64 string          `json:"input_b64"`
	Result   *parseResult    `json:"result"`
	DeepImm  *parseResult    `json:"result_deep_immutable"`
}

type mutableKey struct {
	ID           string `json:"id"`
	PrivateDER   string `json:"private_key_der_b64"`
	WriteKey     string `json:"writekey_b32"`
	ReadKey      string `json:"readkey_b32"`
	Fingerprint  string `json:"fingerprint_b32"`
	StorageIndex string `json:"storage_index_b32"`
	WEMaster     string `json:"write_enabler_master_b32"`
}

type vectorFile struct {
	Cases       []vectorCase      `json:"cases"`
	ParseCases  []parseCase       `json:"parse_cases"`
	MutableKeys []json.RawMessage `json:"mutable_keys"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/caps-public.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 || len(v.ParseCases) == 0 {
		t.Fatal("vector file has no cases")
	}
	return v
}

func str(c *Cap) *string {
	if c == nil {
		return nil
	}
	s := c.String()
	return &s
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func siOf(c *Cap) *string {
	if c.StorageIndex == nil {
		return nil
	}
	s := Base32Encode(c.StorageIndex)
	return &s
}

func sizeOf(c *Cap) *uint64 {
	if n, ok := c.SizeKnown(); ok {
		return &n
	}
	return nil
}

func TestTahoeCapsVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Cases {
		t.Run(tc.ID+"_"+strings.Trim(tc.Kind, ":"), func(t *testing.T) {
			c, err := Parse(tc.Cap)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.Cap, err)
			}
			if got := c.Kind.Prefix(); got != tc.Kind {
				t.Errorf("kind %q, want %q", got, tc.Kind)
			}
			if got := c.String(); got != tc.Cap {
				t.Errorf("round trip:\n got %s\nwant %s", got, tc.Cap)
			}
			if got := str(c.ReadOnly()); !eqPtr(got, tc.Readonly) {
				t.Errorf("readonly %s, want %s", show(got), show(tc.Readonly))
			}
			wantVerify := tc.Verify
			if tc.VerifyError != nil {
				// Tahoe raises here; a verify cap verifies as itself.
				wantVerify = &tc.Cap
			}
			if got := str(c.Verifier()); !eqPtr(got, wantVerify) {
				t.Errorf("verify %s, want %s", show(got), show(wantVerify))
			}
			if got := siOf(c); !eqPtr(got, tc.StorageIndex) {
				t.Errorf("storage index %s, want %s", show(got), show(tc.StorageIndex))
			}
			if c.IsMutable() != tc.IsMutable || c.IsReadOnly() != tc.IsReadonly {
				t.Errorf("mutable/readonly %v/%v, want %v/%v", c.IsMutable(), c.IsReadOnly(), tc.IsMutable, tc.IsReadonly)
			}
			if got := sizeOf(c); (got == nil) != (tc.Size == nil) || got != nil && *got != *tc.Size {
				t.Errorf("size mismatch: got %v want %v", got, tc.Size)
			}
			_, derr := ParseDeepImmutable(tc.Cap)
			if (derr != nil) != tc.DeepImm.Unknown {
				t.Errorf("deep-immutable parse error %v, Tahoe unknown=%v", derr, tc.DeepImm.Unknown)
			}
		})
	}
}

// rejectedByDesign reports parse cases where Tahoe's parser accepts nonsense
// that we reject on purpose (the vector file's read_this_first): k < 1,
// k > N, N > 256, a size beyond 2^64-1, or junk after a CHK verify cap.
func rejectedByDesign(r *parseResult, input string) bool {
	if r == nil || r.Unknown || r.ToString == nil {
		return false
	}
	out := *r.ToString
	if !strings.HasPrefix(out, "URI:CHK") && !strings.HasPrefix(out, "URI:DIR2-CHK") {
		return false
	}
	f := strings.Split(out, ":")
	if len(f) != 7 {
		return false
	}
	k, err1 := strconv.Atoi(f[4])
	n, err2 := strconv.Atoi(f[5])
	_, err3 := strconv.ParseUint(f[6], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || k < 1 || k > n || n > 256 {
		return true
	}
	// Junk after a verify cap: Tahoe's output drops what its input had.
	in := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(input, "imm."), "ro."), "\n")
	return strings.Contains(out, "-Verifier:") && strings.Count(in, ":") > strings.Count(out, ":")
}

func TestTahoeParseCases(t *testing.T) {
	v := loadVectors(t)
	for _, pc := range v.ParseCases {
		t.Run(pc.ID, func(t *testing.T) {
			var input string
			switch {
			case pc.InputB64 != "":
				b, err := base64.StdEncoding.DecodeString(pc.InputB64)
				if err != nil {
					t.Fatal(err)
				}
				input = string(b)
			case string(pc.Input) == "null":
				t.Skipf("%s: not a string; Go's types rule it out", pc.Note)
			default:
				if err := json.Unmarshal(pc.Input, &input); err != nil {
					t.Fatal(err)
				}
			}
			for _, ctx := range []struct {
				name string
				r    *parseResult
				fn   func(string) (*Cap, error)
			}{{"normal", pc.Result, Parse}, {"deep-immutable", pc.DeepImm, ParseDeepImmutable}} {
				r := ctx.r
				if r == nil {
					continue
				}
				c, err := ctx.fn(input)
				switch {
				case r.Raises != "":
					if err == nil && !c.IsUnknown() {
						t.Errorf("%s: %s: Tahoe raises %s, we parsed %v", ctx.name, pc.Note, r.Raises, c)
					}
				case r.Unknown && r.ErrorClass == nil:
					if err != nil || !c.IsUnknown() || c.String() != input {
						t.Errorf("%s: %s: want an unknown cap kept verbatim, got %v, %v", ctx.name, pc.Note, c, err)
					}
				case r.Unknown:
					if err == nil {
						t.Errorf("%s: %s: Tahoe rejects (%s), we accepted %v", ctx.name, pc.Note, *r.ErrorClass, c)
					} else if !errors.Is(err, ErrInvalid) {
						t.Errorf("%s: error does not wrap ErrInvalid: %v", ctx.name, err)
					}
				case rejectedByDesign(r, input):
					if err == nil {
						t.Errorf("%s: %s: Tahoe accepts this by accident; we must reject it, got %v", ctx.name, pc.Note, c)
					}
				default:
					if err != nil {
						t.Fatalf("%s: %s: Parse: %v", ctx.name, pc.Note, err)
					}
					if got := c.String(); r.ToString != nil && got != *r.ToString {
						t.Errorf("%s: %s: to_string %q, want %q", ctx.name, pc.Note, got, *r.ToString)
					}
					if got := str(c.ReadOnly()); !eqPtr(got, r.Readonly) {
						t.Errorf("%s: readonly %s, want %s", ctx.name, show(got), show(r.Readonly))
					}
					if r.Verify != nil {
						if got := str(c.Verifier()); !eqPtr(got, r.Verify) {
							t.Errorf("%s: verify %s, want %s", ctx.name, show(got), show(r.Verify))
						}
					}
					if got := siOf(c); !eqPtr(got, r.StorageIndex) {
						t.Errorf("%s: storage index %s, want %s", ctx.name, show(got), show(r.StorageIndex))
					}
					if c.IsMutable() != r.IsMutable || c.IsReadOnly() != r.IsReadonly {
						t.Errorf("%s: flags mutable=%v readonly=%v, want %v %v", ctx.name, c.IsMutable(), c.IsReadOnly(), r.IsMutable, r.IsReadonly)
					}
				}
			}
		})
	}
}

func TestPublicVectorCapsParse(t *testing.T) {
	f, err := os.Open("testdata/vector-caps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		c, err := Parse(line)
		if err != nil {
			t.Errorf("Parse(%q): %v", line, err)
			continue
		}
		if c.String() != line {
			t.Errorf("round trip %q -> %q", line, c.String())
		}
		want := Kind(strings.SplitN(line, ":", 3)[1])
		if c.Kind != want {
			t.Errorf("%q: kind %s, want %s", line, c.Kind, want)
		}
		// Every attenuation chain ends in a cap that parses and verifies as itself.
		for c2 := c; ; {
			v := c2.Verifier()
			if v == nil || v == c2 {
				break
			}
			if _, err := Parse(v.String()); err != nil {
				t.Errorf("verifier of %q does not parse: %v", line, err)
			}
			c2 = v
		}
	}
	if n != 360 {
		t.Fatalf("read %d vector caps, want 360", n)
	}
}

func TestAttenuate(t *testing.T) {
	const (
		ssk   = "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda"
		chk   = "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa:3:10:86319377"
		lit   = "URI:LIT:nbswy3dp"
		chkV  = "URI:CHK-Verifier:36nvfok6nkbculazgpsnxiuwvu:zrv73tox5pry4zqfas5ajihyctfhbl3lacvut3hezlagrrlib7cq:91:110:1"
		other = "URI:FOO:bar"
	)
	tests := []struct {
		name    string
		in      string
		to      Level
		want    Kind
		wantErr string
	}{
		{"ssk to read", ssk, LevelRead, KindSSKRO, ""},
		{"ssk to verify", ssk, LevelVerify, KindSSKVerifier, ""},
		{"ssk to write is itself", ssk, LevelWrite, KindSSK, ""},
		{"chk to verify", chk, LevelVerify, KindCHKVerifier, ""},
		{"chk to write is stronger", chk, LevelWrite, "", "stronger"},
		{"verifier to read is stronger", chkV, LevelRead, "", "stronger"},
		{"lit has no verifier", lit, LevelVerify, "", "no verify cap"},
		{"unknown cannot be diminished", other, LevelRead, "", "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Attenuate(tt.to)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want {
				t.Fatalf("kind %s, want %s", got.Kind, tt.want)
			}
		})
	}
}

func TestParseErrorsNameTheProblem(t *testing.T) {
	const ueb = "7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa"
	tests := []struct {
		name, in, want string
	}{
		{"bad base32", "URI:CHK:1bqpxhocvbmnqeuzfmysshgohe:" + ueb + ":3:10:100", "invalid base32"},
		{"field count", "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:" + ueb + ":3:10", "want 5 fields"},
		{"k > N", "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:" + ueb + ":11:10:100", "more than total"},
		{"k = 0", "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:" + ueb + ":0:10:100", "at least 1"},
		{"N > 256", "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:" + ueb + ":3:257:100", "at most 256"},
		{"huge size", "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:" + ueb + ":3:10:18446744073709551616", "64 bits"},
		{"verifier junk", "URI:CHK-Verifier:36nvfok6nkbculazgpsnxiuwvu:" + ueb + ":3:10:1:junk", "unexpected text"},
		{"ssk in imm", "imm.URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", "immutable context"},
		{"writecap in ro", "ro.URI:MDMF:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda", "read-only context"},
		{"CRLF", "URI:LIT:nbswy3dp\r\n", "invalid base32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) error %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestLenientForms(t *testing.T) {
	const canonical = "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa:3:10:86319377"
	for _, in := range []string{
		canonical + "\n",
		"ro." + canonical,
		"imm." + canonical,
		"URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa:003:010:0086319377",
	} {
		c, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if c.String() != canonical {
			t.Errorf("Parse(%q) = %s, want %s", in, c, canonical)
		}
	}
	const mdmf = "URI:MDMF:ktgq3z2722iapzwsms2n5h5ct4:ttraikq7qp6ehpi236tgwzutfyyngq34epowiumuttvvbqfclhga"
	c, err := Parse(mdmf + ":3:131073")
	if err != nil || c.String() != mdmf {
		t.Fatalf("MDMF with extension fields: %v %v", c, err)
	}
}

func TestBase32(t *testing.T) {
	for _, s := range []string{"", "me", "mfra", "mfrgg", "mfrggza", "mfrggzdf"} {
		b, err := Base32Decode(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if Base32Encode(b) != s {
			t.Fatalf("round trip %q", s)
		}
	}
	for _, s := range []string{"a", "mfrgh", "MFRGG", "mfrgg=", "abc", "mfrgg1"} {
		if _, err := Base32Decode(s); err == nil {
			t.Errorf("Base32Decode(%q) accepted", s)
		}
	}
}

func TestMutableKeyDerivations(t *testing.T) {
	v := loadVectors(t)
	if len(v.MutableKeys) == 0 {
		t.Fatal("no mutable key vectors")
	}
	for _, raw := range v.MutableKeys {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		wk, _ := m["writekey_b32"].(string)
		rk, _ := m["readkey_b32"].(string)
		si, _ := m["storage_index_b32"].(string)
		wem, _ := m["write_enabler_master_b32"].(string)
		if wk == "" || rk == "" || si == "" {
			t.Fatalf("mutable key vector lacks fields: keys %v", keys(m))
		}
		w, err := Base32Decode(wk)
		if err != nil {
			t.Fatal(err)
		}
		if got := Base32Encode(MutableReadKey(w)); got != rk {
			t.Errorf("readkey %s, want %s", got, rk)
		}
		if got := Base32Encode(MutableStorageIndex(MutableReadKey(w))); got != si {
			t.Errorf("storage index %s, want %s", got, si)
		}
		priv, _ := m["private_key_der_b64"].(string)
		pub, _ := m["public_key_der_b64"].(string)
		fp, _ := m["fingerprint_b32"].(string)
		privDER, err1 := base64.StdEncoding.DecodeString(priv)
		pubDER, err2 := base64.StdEncoding.DecodeString(pub)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if got := Base32Encode(MutableWriteKey(privDER)); got != wk {
			t.Errorf("writekey %s, want %s", got, wk)
		}
		if got := Base32Encode(PubkeyFingerprint(pubDER)); got != fp {
			t.Errorf("fingerprint %s, want %s", got, fp)
		}
		if wem != "" {
			if got := Base32Encode(WriteEnablerMaster(w)); got != wem {
				t.Errorf("write enabler master %s, want %s", got, wem)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
