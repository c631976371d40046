// Package gbswire is what the GBS ("Great Black Swamp", Tahoe-LAFS's HTTP
// storage protocol) client and server share: the CBOR encoding and decoding
// modes and limits, the message bodies, media types and content
// negotiation, NURL parsing and formatting, the SPKI hash that pins a
// server's certificate, the Authorization and X-Tahoe-Authorization
// headers, Range and Content-Range parsing, and the mapping between
// storage's error sentinels and HTTP status codes.
//
// It holds no server or client state and does no I/O beyond reading a
// request body it is handed (DecodeBody); the server is
// pkg/storage/gbsserver, the client pkg/client/gbs.
package gbswire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"sort"

	"github.com/fxamacker/cbor/v2"

	"github.com/lafs/lafs/pkg/storage"
)

// Media types of GBS message bodies.
const (
	MediaCBOR = "application/cbor"
	MediaJSON = "application/json"
)

// VersionV1Key is the protocol identifier keying the version message.
const VersionV1Key = "http://allmydata.org/tahoe/protocols/storage/v1"

const versionV1Key = VersionV1Key

// cborSetTag is the CBOR tag for a set (IANA registry, tag 258).
const cborSetTag = 258

// The CBOR modes are built once from constant options and never change.
var (
	cborEnc = mustEncMode()
	cborDec = mustDecMode()
)

// mustEncMode is core deterministic encoding (RFC 8949 §4.2): map keys and
// struct fields in bytewise order, so equal messages are equal bytes.
func mustEncMode() cbor.EncMode {
	m, err := (cbor.EncOptions{Sort: cbor.SortCoreDeterministic}).EncMode()
	if err != nil {
		panic(err) // the options are constant: a programming error
	}
	return m
}

// mustDecMode bounds what a peer's message can make the decoder allocate.
func mustDecMode() cbor.DecMode {
	m, err := (cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      1 << 12,
		IndefLength:      cbor.IndefLengthAllowed,
	}).DecMode()
	if err != nil {
		panic(err) // the options are constant: a programming error
	}
	return m
}

// ShareSet is a set of share numbers: CBOR tag 258 around an array on the
// wire (a plain array is accepted too), a JSON array.
type ShareSet []uint64

// MarshalCBOR implements cbor.Marshaler.
func (s ShareSet) MarshalCBOR() ([]byte, error) {
	v := []uint64(s)
	if v == nil {
		v = []uint64{}
	}
	return cborEnc.Marshal(cbor.Tag{Number: cborSetTag, Content: v})
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (s *ShareSet) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	var v []uint64
	if err := cborDec.Unmarshal(b, &raw); err == nil {
		if raw.Number != cborSetTag {
			return fmt.Errorf("share set has tag %d, want %d", raw.Number, cborSetTag)
		}
		b = raw.Content
	}
	if err := cborDec.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("share set: %w", err)
	}
	seen := map[uint64]bool{}
	for _, n := range v {
		if seen[n] {
			return fmt.Errorf("share set repeats %d", n)
		}
		seen[n] = true
	}
	*s = v
	return nil
}

// ToShareSet converts share numbers to a sorted set.
func ToShareSet(s []int) ShareSet {
	out := make(ShareSet, len(s))
	for i, v := range s {
		out[i] = uint64(v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Ints converts the set to share numbers.
func (s ShareSet) Ints() []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	sort.Ints(out)
	return out
}

// AllocateRequest is the body of POST /storage/v1/immutable/:si.
type AllocateRequest struct {
	ShareNumbers  ShareSet `cbor:"share-numbers" json:"share-numbers"`
	AllocatedSize uint64   `cbor:"allocated-size" json:"allocated-size"`
}

// AllocateResponse is its response.
type AllocateResponse struct {
	AlreadyHave ShareSet `cbor:"already-have" json:"already-have"`
	Allocated   ShareSet `cbor:"allocated" json:"allocated"`
}

// WriteResponse is the body of a PATCH response that did not complete the
// share.
type WriteResponse struct {
	Required []storage.Range `cbor:"required" json:"required"`
}

// CorruptRequest is the body of a corruption advisory.
type CorruptRequest struct {
	Reason string `cbor:"reason" json:"reason"`
}

// MarshalVersion encodes a version message exactly as Tahoe's server does:
// byte-string keys, in Tahoe's order.
func MarshalVersion(v storage.Version) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(0xa2) // map of 2
	put := func(x any) {
		enc, err := cborEnc.Marshal(x)
		if err == nil {
			b.Write(enc)
		}
	}
	put([]byte(versionV1Key))
	b.WriteByte(0xa3)
	put([]byte("maximum-immutable-share-size"))
	put(v.MaximumImmutableShareSize)
	put([]byte("maximum-mutable-share-size"))
	put(v.MaximumMutableShareSize)
	put([]byte("available-space"))
	put(v.AvailableSpace)
	put([]byte("application-version"))
	appv := v.ApplicationVersion
	if appv == nil {
		appv = []byte{}
	}
	put(appv)
	return b.Bytes(), nil
}

// UnmarshalVersion decodes a version message (byte- or text-string keys).
func UnmarshalVersion(data []byte) (storage.Version, error) {
	var top map[any]any
	if err := cborDec.Unmarshal(data, &top); err != nil {
		return storage.Version{}, fmt.Errorf("decode version: %w", err)
	}
	get := func(m map[any]any, k string) (any, bool) {
		for key, v := range m {
			switch kk := key.(type) {
			case string:
				if kk == k {
					return v, true
				}
			case []byte:
				if string(kk) == k {
					return v, true
				}
			case cbor.ByteString:
				if string(kk) == k {
					return v, true
				}
			}
		}
		return nil, false
	}
	var out storage.Version
	v1any, ok := get(top, versionV1Key)
	v1, isMap := v1any.(map[any]any)
	if !ok || !isMap {
		return out, fmt.Errorf("version message lacks %s", versionV1Key)
	}
	for _, f := range []struct {
		k string
		p *uint64
	}{
		{"maximum-immutable-share-size", &out.MaximumImmutableShareSize},
		{"maximum-mutable-share-size", &out.MaximumMutableShareSize},
		{"available-space", &out.AvailableSpace},
	} {
		x, ok := get(v1, f.k)
		if !ok {
			return out, fmt.Errorf("version message lacks %s", f.k)
		}
		n, ok := x.(uint64)
		if !ok {
			return out, fmt.Errorf("version field %s is %T, want uint", f.k, x)
		}
		*f.p = n
	}
	if av, ok := get(top, "application-version"); ok {
		switch a := av.(type) {
		case []byte:
			out.ApplicationVersion = a
		case string:
			out.ApplicationVersion = []byte(a)
		}
	}
	return out, nil
}

// VersionJSON is the JSON rendering of the version message.
func VersionJSON(v storage.Version) map[string]any {
	return map[string]any{
		versionV1Key: map[string]uint64{
			"maximum-immutable-share-size": v.MaximumImmutableShareSize,
			"maximum-mutable-share-size":   v.MaximumMutableShareSize,
			"available-space":              v.AvailableSpace,
		},
		"application-version": v.ApplicationVersion,
	}
}

// MarshalCBOR encodes v with this package's CBOR options.
func MarshalCBOR(v any) ([]byte, error) {
	b, err := cborEnc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode CBOR: %w", err)
	}
	return b, nil
}

// UnmarshalCBOR decodes data into v with this package's limits.
func UnmarshalCBOR(data []byte, v any) error {
	if err := cborDec.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode CBOR: %w", err)
	}
	return nil
}

// DecodeBody reads a request body of at most limit bytes in the encoding its
// Content-Type names (CBOR when absent). Errors wrap storage.ErrBadRequest,
// storage.ErrTooLarge or ErrUnsupportedMedia.
func DecodeBody(r io.Reader, contentType string, limit int64, v any) error {
	media := MediaCBOR
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return ErrUnsupportedMedia
		}
		media = mt
	}
	if media != MediaCBOR && media != MediaJSON {
		return ErrUnsupportedMedia
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("request body over %d bytes: %w", limit, storage.ErrTooLarge)
	}
	if media == MediaJSON {
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("decode JSON: %v: %w", err, storage.ErrBadRequest)
		}
		return nil
	}
	if err := UnmarshalCBOR(data, v); err != nil {
		return fmt.Errorf("%v: %w", err, storage.ErrBadRequest)
	}
	return nil
}

// Errors of content negotiation, mapped to 415 and 406 by StatusFor.
var (
	ErrUnsupportedMedia = errors.New("unsupported media type")
	ErrNotAcceptable    = errors.New("not acceptable")
)
