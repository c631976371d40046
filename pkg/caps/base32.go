package caps

import (
	"encoding/base32"
	"fmt"
)

// Base32Alphabet is the RFC 3548 alphabet in lower case, as Tahoe-LAFS writes
// every binary value inside a capability string.
const Base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

var b32 = base32.NewEncoding(Base32Alphabet).WithPadding(base32.NoPadding)

// Base32Encode returns Tahoe's base32 form of b: lower case, no padding.
func Base32Encode(b []byte) string {
	return b32.EncodeToString(b)
}

// Base32Decode parses Tahoe's base32. It rejects upper case, padding, lengths
// no whole number of bytes could produce, and non-zero unused trailing bits,
// so that every accepted string is the canonical encoding of its bytes.
func Base32Decode(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return nil, fmt.Errorf("invalid base32 character %q at offset %d", c, i)
		}
	}
	b, err := b32.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base32 %q: %w", s, err)
	}
	if Base32Encode(b) != s {
		return nil, fmt.Errorf("invalid base32 %q: non-canonical trailing bits", s)
	}
	return b, nil
}

// Base32DecodeLen decodes s and checks that it holds exactly n bytes.
func Base32DecodeLen(s string, n int) ([]byte, error) {
	b, err := Base32Decode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, fmt.Errorf("base32 field %q decodes to %d bytes, want %d", s, len(b), n)
	}
	return b, nil
}
