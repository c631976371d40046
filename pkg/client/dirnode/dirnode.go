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
	"strings"
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

// netstringAt reads the netstring at pos of b and returns where its
// contents start and end and where the next one begins.
func netstringAt(b []byte, pos int) (start, end, next int, err error) {
	colon := bytes.IndexByte(b[pos:], ':')
	if colon <= 0 || colon > 12 {
		return 0, 0, 0, fmt.Errorf("netstring at %d: no length: %w", pos, ErrFormat)
	}
	l, ok := digits(b[pos : pos+colon])
	if !ok {
		var err error
		if l, err = strconv.Atoi(string(b[pos : pos+colon])); err != nil || l < 0 {
			return 0, 0, 0, fmt.Errorf("netstring at %d: bad length: %w", pos, ErrFormat)
		}
	}
	start = pos + colon + 1
	end = start + l
	if end >= len(b) {
		return 0, 0, 0, fmt.Errorf("netstring at %d is truncated: %w", pos, ErrFormat)
	}
	if b[end] != ',' {
		return 0, 0, 0, fmt.Errorf("netstring at %d does not end in ',': %w", pos, ErrFormat)
	}
	return start, end, end + 1, nil
}

// digits reads a length of plain decimal digits (at most 12: no
// overflow); anything else is left to strconv.Atoi.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parallelFrom is how many children a directory has before Parse decodes
// them on several goroutines.
const parallelFrom = 256

// contents is a directory's serialized children with the copies its
// entries share: one string for the names and read caps and one byte
// slice for the metadata, rather than three allocations a child.
type contents struct {
	data []byte // the caller's; only read
	text string // a copy of data
	own  []byte // another, for metadata
}

// Parse reads directory contents. With the directory's writekey the
// children's write caps are decrypted; without it (a read cap) they are
// left empty. Large directories are decoded on up to GOMAXPROCS
// goroutines (the write caps' decryption and the metadata checks dominate).
// The entries do not share memory with data.
func Parse(data []byte, writekey []byte) ([]Entry, error) {
	type span struct{ start, end int }
	var raw []span
	for pos := 0; pos < len(data); {
		start, end, next, err := netstringAt(data, pos)
		if err != nil {
			return nil, err
		}
		pos = next
		raw = append(raw, span{start, end})
	}
	if len(raw) == 0 {
		return nil, nil
	}
	c := &contents{data: data, text: string(data), own: bytes.Clone(data)}
	out := make([]Entry, len(raw))
	workers := min(runtime.GOMAXPROCS(0), len(raw)/parallelFrom)
	if workers <= 1 {
		for i, r := range raw {
			if err := c.parseEntry(r.start, r.end, writekey, &out[i]); err != nil {
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
				if err := c.parseEntry(raw[i].start, raw[i].end, writekey, &out[i]); err != nil {
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

// parseEntry decodes one child entry (the four netstrings inside the
// outer one at data[from:to]) into e.
func (c *contents) parseEntry(from, to int, writekey []byte, e *Entry) error {
	entry := c.data[:to]
	var f [4][2]int
	pos := from
	for i := range f {
		start, end, next, err := netstringAt(entry, pos)
		if err != nil {
			return err
		}
		f[i] = [2]int{start, end}
		pos = next
	}
	if pos != to {
		return fmt.Errorf("child entry has trailing bytes: %w", ErrFormat)
	}
	name := c.text[f[0][0]:f[0][1]]
	if !utf8.ValidString(name) {
		return fmt.Errorf("child name is not UTF-8: %w", ErrFormat)
	}
	md := c.own[f[3][0]:f[3][1]:f[3][1]]
	if len(md) == 0 {
		md = nil
	}
	*e = Entry{Name: Normalize(name), ROCap: strings.TrimRight(c.text[f[1][0]:f[1][1]], " "), Metadata: md}
	if rw := c.data[f[2][0]:f[2][1]]; writekey != nil && len(rw) > 0 {
		cap, err := decryptRW(writekey, rw)
		if err != nil {
			return fmt.Errorf("child %q: %w", e.Name, err)
		}
		e.RWCap = string(bytes.TrimRight(cap, " "))
	}
	if len(e.Metadata) > 0 && !validMetadata(e.Metadata) {
		return fmt.Errorf("child %q: metadata is not JSON: %w", e.Name, ErrFormat)
	}
	return nil
}

func decryptRW(writekey, data []byte) ([]byte, error) {
	if len(data) < 16+32 {
		return nil, fmt.Errorf("encrypted write cap is %d bytes: %w", len(data), ErrFormat)
	}
	salt, ct := data[:16], data[16:len(data)-32]
	if len(ct) == 0 {
		return nil, nil // an empty write cap: a read-only child
	}
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
