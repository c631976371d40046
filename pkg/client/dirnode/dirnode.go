// Package dirnode reads and writes Tahoe-LAFS directory contents: the
// serialized list of children stored in a directory's backing file (SDMF,
// MDMF, or an immutable CHK/LIT file). Each child is a netstring of four
// netstrings: the name (UTF-8), the read cap in clear, the write cap
// encrypted with a key derived from the directory's writekey, and JSON
// metadata. Unknown child caps are kept verbatim.
//
// It does not fetch or store the backing file: pkg/client does that.
package dirnode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lafs/lafs/pkg/caps"
	"golang.org/x/text/unicode/norm"
)

// Entry is one child of a directory.
type Entry struct {
	Name string
	// RWCap is the child's write cap ("" when the child is read-only or the
	// directory was read with a read cap).
	RWCap string
	// ROCap is the child's read cap.
	ROCap string
	// Metadata is the child's JSON metadata, kept verbatim.
	Metadata json.RawMessage
}

// Cap returns the strongest cap the entry carries.
func (e Entry) Cap() string {
	if e.RWCap != "" {
		return e.RWCap
	}
	return e.ROCap
}

// ErrFormat wraps every error about malformed directory contents.
var ErrFormat = errors.New("malformed directory")

func netstring(b []byte) []byte { return caps.Netstring(b) }

// splitNetstrings reads n consecutive netstrings from b at pos.
func splitNetstrings(b []byte, n, pos int) ([][]byte, int, error) {
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		colon := bytes.IndexByte(b[pos:], ':')
		if colon <= 0 || colon > 12 {
			return nil, 0, fmt.Errorf("netstring at %d: no length: %w", pos, ErrFormat)
		}
		l, err := strconv.Atoi(string(b[pos : pos+colon]))
		if err != nil || l < 0 {
			return nil, 0, fmt.Errorf("netstring at %d: bad length: %w", pos, ErrFormat)
		}
		start := pos + colon + 1
		end := start + l
		if end >= len(b) {
			return nil, 0, fmt.Errorf("netstring at %d is truncated: %w", pos, ErrFormat)
		}
		if b[end] != ',' {
			return nil, 0, fmt.Errorf("netstring at %d does not end in ',': %w", pos, ErrFormat)
		}
		out = append(out, b[start:end])
		pos = end + 1
	}
	return out, pos, nil
}

// parallelFrom is how many children a directory has before Parse decodes
// them on several goroutines.
const parallelFrom = 256

// Parse reads directory contents. With the directory's writekey the
// children's write caps are decrypted; without it (a read cap) they are
// left empty. Large directories are decoded on up to GOMAXPROCS
// goroutines (the write caps' decryption and the metadata checks dominate).
func Parse(data []byte, writekey []byte) ([]Entry, error) {
	var raw [][]byte
	for pos := 0; pos < len(data); {
		outer, next, err := splitNetstrings(data, 1, pos)
		if err != nil {
			return nil, err
		}
		pos = next
		raw = append(raw, outer[0])
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]Entry, len(raw))
	workers := min(runtime.GOMAXPROCS(0), len(raw)/parallelFrom)
	if workers <= 1 {
		for i, r := range raw {
			if err := parseEntry(r, writekey, &out[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	// Each worker takes a contiguous run; the first error by position is
	// the one reported, as a serial parse would.
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (len(raw) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * per; i < min(len(raw), (w+1)*per); i++ {
				if err := parseEntry(raw[i], writekey, &out[i]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseEntry decodes one child entry (the four netstrings inside its
// outer one) into e.
func parseEntry(entry []byte, writekey []byte, e *Entry) error {
	f, end, err := splitNetstrings(entry, 4, 0)
	if err != nil {
		return err
	}
	if end != len(entry) {
		return fmt.Errorf("child entry has trailing bytes: %w", ErrFormat)
	}
	if !utf8.Valid(f[0]) {
		return fmt.Errorf("child name is not UTF-8: %w", ErrFormat)
	}
	*e = Entry{Name: Normalize(string(f[0])), ROCap: string(bytes.TrimRight(f[1], " ")), Metadata: append(json.RawMessage(nil), f[3]...)}
	if writekey != nil && len(f[2]) > 0 {
		rw, err := decryptRW(writekey, f[2])
		if err != nil {
			return fmt.Errorf("child %q: %w", e.Name, err)
		}
		e.RWCap = string(bytes.TrimRight(rw, " "))
	}
	if len(e.Metadata) > 0 && !json.Valid(e.Metadata) {
		return fmt.Errorf("child %q: metadata is not JSON: %w", e.Name, ErrFormat)
	}
	return nil
}

func decryptRW(writekey, data []byte) ([]byte, error) {
	if len(data) < 16+32 {
		return nil, fmt.Errorf("encrypted write cap is %d bytes: %w", len(data), ErrFormat)
	}
	salt, ct := data[:16], data[16:len(data)-32]
	b, err := aes.NewCipher(caps.DirChildCapKey(salt, writekey))
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(ct))
	cipher.NewCTR(b, make([]byte, aes.BlockSize)).XORKeyStream(out, ct)
	return out, nil
}

// encryptRW encrypts a child's write cap as Tahoe does: salt from the cap,
// AES-CTR under a key from the salt and the directory's writekey, and the
// MAC older readers expect.
func encryptRW(writekey []byte, rw string) []byte {
	salt := caps.DirChildSalt([]byte(rw))
	key := caps.DirChildCapKey(salt, writekey)
	b, _ := aes.NewCipher(key)
	ct := make([]byte, len(rw))
	cipher.NewCTR(b, make([]byte, aes.BlockSize)).XORKeyStream(ct, []byte(rw))
	out := append(append([]byte{}, salt...), ct...)
	return append(out, tahoeHMAC(key, out)...)
}

// tahoeHMAC is Tahoe's own HMAC construction (hashutil.hmac): SHA-256 with
// the key XORed into inner and outer pads of the key's own length.
func tahoeHMAC(key, data []byte) []byte {
	ikey := make([]byte, len(key))
	okey := make([]byte, len(key))
	for i, c := range key {
		ikey[i], okey[i] = c^0x36, c^0x5c
	}
	h1 := sha256.Sum256(append(ikey, data...))
	h2 := sha256.Sum256(append(okey, h1[:]...))
	return h2[:]
}

// Pack serializes entries (sorted by name) as Tahoe does. With a writekey,
// write caps are encrypted; without one (immutable directories) they must
// be empty.
func Pack(entries []Entry, writekey []byte) ([]byte, error) {
	sorted := append([]Entry(nil), entries...)
	for i := range sorted {
		sorted[i].Name = Normalize(sorted[i].Name)
	}
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Name < sorted[b].Name })
	var out []byte
	for i, e := range sorted {
		if i > 0 && sorted[i-1].Name == e.Name {
			return nil, fmt.Errorf("two children named %q", e.Name)
		}
		if err := CheckName(e.Name); err != nil {
			return nil, err
		}
		// In a writable directory every child carries the encrypted field,
		// even when its write cap is empty, as Tahoe writes it.
		rw := []byte{}
		switch {
		case writekey != nil:
			rw = encryptRW(writekey, e.RWCap)
		case e.RWCap != "":
			return nil, fmt.Errorf("child %q: a write cap in a directory without a writekey", e.Name)
		}
		md := e.Metadata
		if len(md) == 0 {
			md = json.RawMessage("{}")
		}
		entry := append(append(append(netstring([]byte(e.Name)), netstring([]byte(e.ROCap))...), netstring(rw)...), netstring(md)...)
		out = append(out, netstring(entry)...)
	}
	return out, nil
}

// Normalize puts a child name in Unicode NFC, as Tahoe does for every name
// going into or coming out of a directory.
func Normalize(name string) string { return norm.NFC.String(name) }

// CheckName rejects names a directory cannot hold.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("a child name cannot be empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("child name %q is not UTF-8", name)
	case bytes.ContainsAny([]byte(name), "/\x00"):
		return fmt.Errorf("child name %q contains '/' or NUL", name)
	}
	return nil
}

// NewMetadata returns the metadata Tahoe gives a new link: tahoe.linkcrtime
// and tahoe.linkmotime, in seconds since the epoch.
func NewMetadata(now time.Time) json.RawMessage {
	t := strconv.FormatFloat(float64(now.UnixNano())/1e9, 'f', -1, 64)
	return json.RawMessage(`{"tahoe": {"linkcrtime": ` + t + `, "linkmotime": ` + t + `}}`)
}
