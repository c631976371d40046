package caps

import (
	"fmt"
	"strconv"
	"strings"
)

// Prefixes a cap may carry to say what its holder is allowed to assume
// (Tahoe's ALLEGED_READONLY_PREFIX and ALLEGED_IMMUTABLE_PREFIX).
const (
	PrefixReadOnly  = "ro."
	PrefixImmutable = "imm."
)

// Parse reads a capability string.
//
// It accepts what Tahoe-LAFS deliberately accepts: one "ro." or "imm."
// prefix (checked against the cap's authority), one trailing newline,
// leading zeros in numbers, and extension fields after an MDMF cap. It
// rejects, with a *ParseError, what Tahoe's parser lets through by accident:
// k > N, k = 0, N > 256, sizes beyond 2^64-1 and junk after a CHK verify cap.
//
// A string without a known kind's prefix is not an error: it is returned as
// a Cap of KindUnknown holding the string verbatim (forward compatibility,
// as Tahoe's UnknownURI).
func Parse(s string) (*Cap, error) { return parse(s, false) }

// ParseDeepImmutable parses s where only deeply immutable caps are allowed
// (inside an immutable directory): as if s carried the "imm." prefix.
func ParseDeepImmutable(s string) (*Cap, error) { return parse(s, true) }

func parse(input string, deepImmutable bool) (*Cap, error) {
	s := input
	canBeMutable, canBeWritable := !deepImmutable, !deepImmutable
	switch {
	case strings.HasPrefix(s, PrefixImmutable):
		canBeMutable, canBeWritable = false, false
		s = s[len(PrefixImmutable):]
	case strings.HasPrefix(s, PrefixReadOnly):
		canBeWritable = false
		s = s[len(PrefixReadOnly):]
	}
	ki, body, ok := matchKind(s)
	if !ok {
		return futureTest(input, s, canBeMutable, canBeWritable)
	}
	if ki.level == LevelWrite && !canBeWritable {
		return nil, contextError(ki.kind, canBeMutable)
	}
	if (ki.fam == famSSKRO || ki.fam == famMDMFRO) && !canBeMutable {
		return nil, contextError(ki.kind, canBeMutable)
	}
	// Tahoe's patterns end in Python's "$", which also matches before one
	// final newline; accept exactly that, nothing more.
	body = strings.TrimSuffix(body, "\n")
	c, err := parseBody(ki, body)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// futureTest handles the strings Tahoe reserves for testing how future caps
// behave in constrained contexts; every other unmatched string is Unknown.
func futureTest(input, s string, canBeMutable, canBeWritable bool) (*Cap, error) {
	switch {
	case strings.HasPrefix(s, "x-tahoe-future-test-writeable:") && !canBeWritable:
		return nil, contextError("x-tahoe-future-test-writeable", canBeMutable)
	case strings.HasPrefix(s, "x-tahoe-future-test-mutable:") && !canBeMutable:
		return nil, contextError("x-tahoe-future-test-mutable", canBeMutable)
	}
	return &Cap{Kind: KindUnknown, Raw: input}, nil
}

func contextError(k Kind, canBeMutable bool) error {
	if !canBeMutable {
		return &ParseError{k, "a mutable cap cannot be used in an immutable context (imm. prefix or immutable directory)"}
	}
	return &ParseError{k, "a write cap cannot be used in a read-only context (ro. prefix)"}
}

func matchKind(s string) (kindInfo, string, bool) {
	if !strings.HasPrefix(s, "URI:") {
		return kindInfo{}, "", false
	}
	for _, ki := range kinds {
		if p := ki.kind.Prefix(); strings.HasPrefix(s, p) {
			return ki, s[len(p):], true
		}
	}
	return kindInfo{}, "", false
}

func parseBody(ki kindInfo, body string) (*Cap, error) {
	k := ki.kind
	bad := func(format string, a ...any) error { return &ParseError{k, fmt.Sprintf(format, a...)} }
	c := &Cap{Kind: k}
	switch ki.fam {
	case famLIT:
		data, err := Base32Decode(body)
		if err != nil {
			return nil, bad("data: %v", err)
		}
		c.Data = data
		return c, nil

	case famCHK, famCHKVerifier:
		f := strings.Split(body, ":")
		if len(f) != 5 {
			if ki.fam == famCHKVerifier && len(f) > 5 {
				return nil, bad("unexpected text after the size field: %q", strings.Join(f[5:], ":"))
			}
			return nil, bad("want 5 fields (key:ueb-hash:k:N:size), got %d", len(f))
		}
		first, err := Base32DecodeLen(f[0], KeyLen)
		if err != nil {
			name := "key"
			if ki.fam == famCHKVerifier {
				name = "storage index"
			}
			return nil, bad("%s: %v", name, err)
		}
		if c.UEBHash, err = Base32DecodeLen(f[1], 32); err != nil {
			return nil, bad("URI extension hash: %v", err)
		}
		if c.Needed, err = parseSmall(f[2]); err != nil {
			return nil, bad("needed shares: %v", err)
		}
		if c.Total, err = parseSmall(f[3]); err != nil {
			return nil, bad("total shares: %v", err)
		}
		if c.Size, err = parseUint64(f[4]); err != nil {
			return nil, bad("size: %v", err)
		}
		if err := checkEncoding(k, c.Needed, c.Total); err != nil {
			return nil, err
		}
		if ki.fam == famCHK {
			c.Key, c.StorageIndex = first, StorageIndexCHK(first)
		} else {
			c.StorageIndex = first
		}
		return c, nil
	}

	// Mutable families: two base32 fields; MDMF allows extension fields
	// after them, which are ignored (as Tahoe does).
	f := strings.SplitN(body, ":", 3)
	isMDMF := ki.fam == famMDMF || ki.fam == famMDMFRO || ki.fam == famMDMFVerifier
	if len(f) < 2 || (len(f) == 3 && !isMDMF) {
		return nil, bad("want 2 fields (key:fingerprint), got %d", strings.Count(body, ":")+1)
	}
	key, err := Base32DecodeLen(f[0], KeyLen)
	if err != nil {
		return nil, bad("key: %v", err)
	}
	if c.Fingerprint, err = Base32DecodeLen(f[1], 32); err != nil {
		return nil, bad("fingerprint: %v", err)
	}
	switch ki.fam {
	case famSSK, famMDMF:
		c.WriteKey = key
		c.ReadKey = MutableReadKey(key)
		c.StorageIndex = MutableStorageIndex(c.ReadKey)
	case famSSKRO, famMDMFRO:
		c.ReadKey = key
		c.StorageIndex = MutableStorageIndex(key)
	default:
		c.StorageIndex = key
	}
	return c, nil
}

// parseSmall parses a share count: decimal digits only (leading zeros
// allowed), at most a few digits' worth.
func parseSmall(s string) (int, error) {
	n, err := parseUint64(s)
	if err != nil {
		return 0, err
	}
	if n > 1<<20 {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	return int(n), nil
}

// parseUint64 accepts decimal digits only (no sign, no spaces), leading
// zeros allowed, value at most 2^64-1.
func parseUint64(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s does not fit in 64 bits", s)
	}
	return n, nil
}
