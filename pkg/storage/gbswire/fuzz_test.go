package gbswire

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/lafs/lafs/pkg/storage"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-15", "bytes=40-99", "bytes=5-", "bytes=0-1,4-5", "items=0-1", "bytes=-5", "bytes= 3-4", "bytes=18446744073709551615-18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		start, end, ok := ParseRange(h)
		if !ok {
			return
		}
		if start >= end {
			t.Fatalf("%q: empty range %d-%d accepted", h, start, end)
		}
		s2, e2, ok2 := ParseRange(fmt.Sprintf("bytes=%d-%d", start, end-1))
		if !ok2 || s2 != start || e2 != end {
			t.Fatalf("%q: round trip %d-%d -> %d-%d %v", h, start, end, s2, e2, ok2)
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-15/48", "bytes 32-47/*", "bytes 5-1/*", "bytes 0-15/10", "bytes */48", "bytes 0-0/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		start, end, length, ok := ParseContentRange(h)
		if !ok {
			return
		}
		if start >= end || (length >= 0 && uint64(length) < end) {
			t.Fatalf("%q: inconsistent %d-%d/%d", h, start, end, length)
		}
	})
}

// cborSeeds are encoded request and response bodies.
func cborSeeds(f *testing.F) {
	ten := uint64(10)
	for _, v := range []any{
		AllocateRequest{ShareNumbers: ShareSet{1, 7}, AllocatedSize: 48},
		AllocateResponse{AlreadyHave: ShareSet{1}, Allocated: ShareSet{7}},
		WriteResponse{Required: []storage.Range{{Begin: 16, End: 48}}},
		CorruptRequest{Reason: "expected hash abcd, got hash efgh"},
		storage.ReadTestWriteRequest{
			TestWriteVectors: map[uint64]storage.TestWriteVectors{3: {Test: []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}}, Write: []storage.WriteVector{{Offset: 0, Data: []byte("xxxxxxxxxx")}}, NewLength: &ten}},
			ReadVector:       []storage.ReadVector{{Offset: 3, Size: 12}},
		},
		storage.ReadTestWriteResult{Success: true, Data: map[uint64][][]byte{0: {[]byte("foo")}}},
		ShareSet{1, 5},
	} {
		b, err := MarshalCBOR(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	v, _ := MarshalVersion(storage.Version{MaximumImmutableShareSize: 1, MaximumMutableShareSize: 2, AvailableSpace: 3, ApplicationVersion: []byte("x")})
	f.Add(v)
}

// roundTrip decodes data into a fresh *T; whatever decodes must encode,
// decode and encode again to the same bytes.
func roundTrip[T any](t *testing.T, data []byte) {
	var v T
	if err := UnmarshalCBOR(data, &v); err != nil {
		return
	}
	enc, err := MarshalCBOR(v)
	if err != nil {
		t.Fatalf("re-encode %T: %v", v, err)
	}
	var w T
	if err := UnmarshalCBOR(enc, &w); err != nil {
		t.Fatalf("decode re-encoded %T: %v", v, err)
	}
	enc2, err := MarshalCBOR(w)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("%T: encoding is not stable: %x != %x (%v)", v, enc, enc2, err)
	}
}

func FuzzDecodeCBOR(f *testing.F) {
	cborSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip[AllocateRequest](t, data)
		roundTrip[AllocateResponse](t, data)
		roundTrip[WriteResponse](t, data)
		roundTrip[CorruptRequest](t, data)
		roundTrip[storage.ReadTestWriteRequest](t, data)
		roundTrip[storage.ReadTestWriteResult](t, data)
		roundTrip[ShareSet](t, data)
		if v, err := UnmarshalVersion(data); err == nil {
			enc, _ := MarshalVersion(v)
			v2, err := UnmarshalVersion(enc)
			if err != nil || !reflect.DeepEqual(v, v2) && !(len(v.ApplicationVersion) == 0 && len(v2.ApplicationVersion) == 0) {
				t.Fatalf("version round trip: %+v %+v %v", v, v2, err)
			}
		}
	})
}

func FuzzParseNURL(f *testing.F) {
	for _, s := range []string{
		"pb://47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU@127.0.0.1:3457/abcdefghijklmnopqrstuvwxyz234567#v=1",
		"pb://47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU@tcp:127.0.0.1:3457/swiss#v=1",
		"pb://tubid@tcp:127.0.0.1:3457/swiss",
		"pb://47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU@[::1]:3457/s#v=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNURL(s)
		if err != nil {
			return
		}
		n2, err := ParseNURL(n.String())
		if err != nil || n2 != n {
			t.Fatalf("%q: round trip %+v -> %+v %v", s, n, n2, err)
		}
	})
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/json, application/cbor;q=0.5", "text/html", "application/cbor;q=0, */*", "a/b;q=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		switch got := Negotiate(accept); got {
		case MediaCBOR, MediaJSON, "":
		default:
			t.Fatalf("negotiate(%q) = %q", accept, got)
		}
	})
}

func FuzzSecrets(f *testing.F) {
	f.Add("lease-renew-secret "+b64(bytes.Repeat([]byte{1}, 32)), "lease-cancel-secret "+b64(bytes.Repeat([]byte{2}, 32)))
	f.Add("upload-secret "+b64([]byte("u")), "")
	f.Add("write-enabler !!", "bogus x")
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := ParseSecrets(http.Header{"X-Tahoe-Authorization": {a, b}}, SecretLeaseRenew, SecretLeaseCancel)
		if err != nil {
			return
		}
		if len(got[SecretLeaseRenew]) != 32 || len(got[SecretLeaseCancel]) != 32 || len(got) != 2 {
			t.Fatalf("accepted %q, %q as %v", a, b, got)
		}
	})
}

// FuzzDecodeBody feeds arbitrary bodies and content types to DecodeBody:
// one clear error or a value, never a panic; the limit holds.
func FuzzDecodeBody(f *testing.F) {
	cborSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ct := range []string{"", MediaCBOR, MediaJSON, "text/plain", "application/cbor; x=\""} {
			var req storage.ReadTestWriteRequest
			err := DecodeBody(bytes.NewReader(data), ct, 4096, &req)
			if err != nil && StatusFor(err) == http.StatusInternalServerError {
				t.Fatalf("DecodeBody(%q) error maps to 500: %v", ct, err)
			}
			if len(data) > 4096 && err == nil {
				t.Fatalf("body of %d bytes over a 4096-byte limit accepted", len(data))
			}
		}
	})
}
