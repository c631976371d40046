package gbswire

import (
	"strings"
	"testing"
)

func TestParseNURL(t *testing.T) {
	const h = "g3-DP0ftNC4EFMqoQupvspRDI-qC3h598_MM7lt81Uo"
	const tubID = "hr3bcbqrydkaogxz4ldtwwm7xzlhc2sr"
	for _, tc := range []struct {
		name, in string
		want     NURL
		ok       bool
	}{
		{"ipv4", "pb://" + h + "@127.0.0.1:3457/swiss#v=1", NURL{h, "127.0.0.1", 3457, "swiss"}, true},
		{"hostname", "pb://" + h + "@example.org:1/s#v=1", NURL{h, "example.org", 1, "s"}, true},
		{"ipv6", "pb://" + h + "@[::1]:3457/s#v=1", NURL{h, "::1", 3457, "s"}, true},
		{"foolscap hint form", "pb://" + h + "@tcp:127.0.0.1:3457/s#v=1", NURL{}, false},
		{"no version", "pb://" + h + "@127.0.0.1:3457/s", NURL{}, false},
		{"short hash", "pb://abc@127.0.0.1:3457/s#v=1", NURL{}, false},
		{"https", "https://" + h + "@127.0.0.1:3457/s#v=1", NURL{}, false},
		{"no port", "pb://" + h + "@127.0.0.1/s#v=1", NURL{}, false},
		{"two segments", "pb://" + h + "@127.0.0.1:3457/s/t#v=1", NURL{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNURL(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseNURL = %+v, %v", got, err)
			}
			if err != nil && strings.Contains(err.Error(), "/s") {
				t.Fatalf("error quotes the swissnum: %v", err)
			}
			if tc.ok && strings.Contains(got.Redacted(), "/"+got.Swissnum+"#") {
				t.Fatalf("Redacted() = %q shows the swissnum", got.Redacted())
			}
			if tc.ok && got.String() != tc.in {
				t.Fatalf("String() = %q", got.String())
			}
		})
	}
	if f := FURL(tubID, "127.0.0.1", 3457, "sw"); f != "pb://"+tubID+"@tcp:127.0.0.1:3457/sw" {
		t.Fatalf("FURL %q", f)
	}
}
