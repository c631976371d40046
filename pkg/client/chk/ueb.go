package chk

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// UEB is the URI extension block stored at the end of every share and
// hashed into the cap. Fields holds every key and raw value as stored
// (Tahoe's encoding: for each key in sorted order, "key:" then a netstring
// of the value; integers in decimal).
type UEB struct {
	Fields map[string][]byte
}

// Known UEB keys.
const (
	uebCodecName         = "codec_name"
	uebCodecParams       = "codec_params"
	uebCrypttextHash     = "crypttext_hash"
	uebCrypttextRootHash = "crypttext_root_hash"
	uebNeededShares      = "needed_shares"
	uebNumSegments       = "num_segments"
	uebSegmentSize       = "segment_size"
	uebShareRootHash     = "share_root_hash"
	uebSize              = "size"
	uebTailCodecParams   = "tail_codec_params"
	uebTotalShares       = "total_shares"
)

// newUEB builds the block Tahoe's encoder writes for a file.
func newUEB(l Layout, crypttextHash, crypttextRoot, shareRoot []byte) UEB {
	f := map[string][]byte{
		uebCodecName:         []byte("crs"),
		uebCodecParams:       []byte(l.CodecParams()),
		uebCrypttextHash:     crypttextHash,
		uebCrypttextRootHash: crypttextRoot,
		uebNeededShares:      []byte(strconv.Itoa(l.Needed)),
		uebNumSegments:       []byte(strconv.Itoa(l.NumSegments)),
		uebSegmentSize:       []byte(strconv.FormatInt(l.SegmentSize, 10)),
		uebShareRootHash:     shareRoot,
		uebSize:              []byte(strconv.FormatUint(l.Size, 10)),
		uebTailCodecParams:   []byte(l.TailCodecParams()),
		uebTotalShares:       []byte(strconv.Itoa(l.Total)),
	}
	return UEB{Fields: f}
}

// Pack serialises the block.
func (u UEB) Pack() []byte {
	keys := make([]string, 0, len(u.Fields))
	for k := range u.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		v := u.Fields[k]
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.Write(v)
		b.WriteByte(',')
	}
	return b.Bytes()
}

// maxUEBSize bounds a UEB read from a share (Tahoe's are ~300 bytes).
const maxUEBSize = 64 << 10

// ParseUEB reads a packed block. Keys must be of letters, '_' and '-' and
// appear at most once.
func ParseUEB(b []byte) (UEB, error) {
	if len(b) > maxUEBSize {
		return UEB{}, fmt.Errorf("URI extension block of %d bytes is too large", len(b))
	}
	u := UEB{Fields: map[string][]byte{}}
	for len(b) > 0 {
		i := bytes.IndexByte(b, ':')
		if i <= 0 {
			return UEB{}, errors.New("URI extension block: expected key:")
		}
		key := string(b[:i])
		for _, c := range key {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
				return UEB{}, fmt.Errorf("URI extension block: bad key %q", key)
			}
		}
		b = b[i+1:]
		j := bytes.IndexByte(b, ':')
		if j <= 0 || j > 10 {
			return UEB{}, fmt.Errorf("URI extension block: bad length for %q", key)
		}
		n, err := strconv.Atoi(string(b[:j]))
		if err != nil || n < 0 || strings.HasPrefix(string(b[:j]), "+") {
			return UEB{}, fmt.Errorf("URI extension block: bad length for %q", key)
		}
		b = b[j+1:]
		if n >= len(b) || b[n] != ',' {
			return UEB{}, fmt.Errorf("URI extension block: value of %q is truncated", key)
		}
		if _, dup := u.Fields[key]; dup {
			return UEB{}, fmt.Errorf("URI extension block: key %q appears twice", key)
		}
		u.Fields[key] = append([]byte(nil), b[:n]...)
		b = b[n+1:]
	}
	return u, nil
}

// Int returns an integer field.
func (u UEB) Int(key string) (int64, error) {
	v, ok := u.Fields[key]
	if !ok {
		return 0, fmt.Errorf("URI extension block lacks %s", key)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("URI extension block: %s = %q is not a number", key, v)
	}
	return n, nil
}

// Hash returns a 32-byte hash field.
func (u UEB) Hash(key string) ([]byte, error) {
	v, ok := u.Fields[key]
	if !ok || len(v) != 32 {
		return nil, fmt.Errorf("URI extension block: %s is missing or not 32 bytes", key)
	}
	return v, nil
}

// Layout checks the block against the cap's k, N and size and returns the
// file's layout.
func (u UEB) Layout(needed, total int, size uint64) (Layout, error) {
	seg, err := u.Int(uebSegmentSize)
	if err != nil {
		return Layout{}, err
	}
	for key, want := range map[string]int64{uebNeededShares: int64(needed), uebTotalShares: int64(total), uebSize: int64(size)} {
		got, err := u.Int(key)
		if err != nil {
			return Layout{}, err
		}
		if got != want {
			return Layout{}, fmt.Errorf("URI extension block: %s = %d, but the cap says %d", key, got, want)
		}
	}
	if seg < 1 || seg%int64(needed) != 0 {
		return Layout{}, fmt.Errorf("URI extension block: segment_size %d is not a positive multiple of k=%d", seg, needed)
	}
	l, err := NewLayout(size, Params{Needed: needed, Total: total, MaxSegmentSize: seg})
	if err != nil {
		return Layout{}, err
	}
	if l.SegmentSize != seg {
		return Layout{}, fmt.Errorf("URI extension block: segment_size %d does not fit a %d-byte file", seg, size)
	}
	if ns, err := u.Int(uebNumSegments); err != nil || ns != int64(l.NumSegments) {
		return Layout{}, fmt.Errorf("URI extension block: num_segments does not match the size")
	}
	if c := string(u.Fields[uebCodecName]); c != "crs" {
		return Layout{}, fmt.Errorf("URI extension block: unknown codec %q", c)
	}
	if string(u.Fields[uebCodecParams]) != l.CodecParams() || string(u.Fields[uebTailCodecParams]) != l.TailCodecParams() {
		return Layout{}, fmt.Errorf("URI extension block: codec parameters do not match the file")
	}
	return l, nil
}
