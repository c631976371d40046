package caps

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind names one capability format. Its string is the name Tahoe-LAFS uses
// in the cap's prefix ("CHK", "SSK-RO", "DIR2-MDMF-Verifier", ...), or
// "unknown" for a cap this package does not understand.
type Kind string

// Every capability kind Tahoe-LAFS knows, and Unknown for the rest.
const (
	KindCHK              Kind = "CHK"
	KindCHKVerifier      Kind = "CHK-Verifier"
	KindLIT              Kind = "LIT"
	KindSSK              Kind = "SSK"
	KindSSKRO            Kind = "SSK-RO"
	KindSSKVerifier      Kind = "SSK-Verifier"
	KindMDMF             Kind = "MDMF"
	KindMDMFRO           Kind = "MDMF-RO"
	KindMDMFVerifier     Kind = "MDMF-Verifier"
	KindDIR2             Kind = "DIR2"
	KindDIR2RO           Kind = "DIR2-RO"
	KindDIR2Verifier     Kind = "DIR2-Verifier"
	KindDIR2CHK          Kind = "DIR2-CHK"
	KindDIR2CHKVerifier  Kind = "DIR2-CHK-Verifier"
	KindDIR2LIT          Kind = "DIR2-LIT"
	KindDIR2MDMF         Kind = "DIR2-MDMF"
	KindDIR2MDMFRO       Kind = "DIR2-MDMF-RO"
	KindDIR2MDMFVerifier Kind = "DIR2-MDMF-Verifier"
	KindUnknown          Kind = "unknown"
)

// Prefix returns the cap string prefix of k, e.g. "URI:CHK:"; empty for
// KindUnknown.
func (k Kind) Prefix() string {
	if k == KindUnknown || k == "" {
		return ""
	}
	return "URI:" + string(k) + ":"
}

// Level is how much authority a cap grants.
type Level int

// Authority levels, weakest first.
const (
	LevelVerify Level = iota // can check that shares exist and are intact
	LevelRead                // can read the plaintext
	LevelWrite               // can modify a mutable file or directory
)

// String names the level as the CLI does: "verify", "read", "write".
func (l Level) String() string {
	switch l {
	case LevelVerify:
		return "verify"
	case LevelRead:
		return "read"
	case LevelWrite:
		return "write"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// family is the file-level format behind a kind; directory kinds wrap one.
type family int

const (
	famCHK family = iota
	famCHKVerifier
	famLIT
	famSSK
	famSSKRO
	famSSKVerifier
	famMDMF
	famMDMFRO
	famMDMFVerifier
)

type kindInfo struct {
	kind  Kind
	fam   family
	dir   bool
	level Level
}

// kinds lists every known kind. Parsing matches prefixes exactly, so the
// order does not matter ("URI:CHK:" never matches "URI:CHK-Verifier:").
var kinds = [...]kindInfo{
	{KindCHK, famCHK, false, LevelRead},
	{KindCHKVerifier, famCHKVerifier, false, LevelVerify},
	{KindLIT, famLIT, false, LevelRead},
	{KindSSK, famSSK, false, LevelWrite},
	{KindSSKRO, famSSKRO, false, LevelRead},
	{KindSSKVerifier, famSSKVerifier, false, LevelVerify},
	{KindMDMF, famMDMF, false, LevelWrite},
	{KindMDMFRO, famMDMFRO, false, LevelRead},
	{KindMDMFVerifier, famMDMFVerifier, false, LevelVerify},
	{KindDIR2, famSSK, true, LevelWrite},
	{KindDIR2RO, famSSKRO, true, LevelRead},
	{KindDIR2Verifier, famSSKVerifier, true, LevelVerify},
	{KindDIR2CHK, famCHK, true, LevelRead},
	{KindDIR2CHKVerifier, famCHKVerifier, true, LevelVerify},
	{KindDIR2LIT, famLIT, true, LevelRead},
	{KindDIR2MDMF, famMDMF, true, LevelWrite},
	{KindDIR2MDMFRO, famMDMFRO, true, LevelRead},
	{KindDIR2MDMFVerifier, famMDMFVerifier, true, LevelVerify},
}

func infoOf(k Kind) (kindInfo, bool) {
	for _, ki := range kinds {
		if ki.kind == k {
			return ki, true
		}
	}
	return kindInfo{}, false
}

// kindFor returns the kind of the given family, directory or not.
func kindFor(f family, dir bool) Kind {
	for _, ki := range kinds {
		if ki.fam == f && ki.dir == dir {
			return ki.kind
		}
	}
	panic("caps: no kind for family") // unreachable: the table is complete
}

// Cap is one parsed capability. Which fields are set depends on Kind:
//
//   - CHK, DIR2-CHK: Key, UEBHash, Needed, Total, Size
//   - CHK-Verifier, DIR2-CHK-Verifier: StorageIndex, UEBHash, Needed, Total, Size
//   - LIT, DIR2-LIT: Data
//   - SSK, MDMF, DIR2, DIR2-MDMF (writecaps): WriteKey, Fingerprint
//   - SSK-RO, MDMF-RO, DIR2-RO, DIR2-MDMF-RO: ReadKey, Fingerprint
//   - the mutable verifiers: StorageIndex, Fingerprint
//   - Unknown: Raw, the string exactly as given
//
// A Cap made by Parse is valid; use the New* constructors or Parse rather
// than filling fields by hand.
type Cap struct {
	Kind         Kind
	Key          []byte // CHK AES key (16 bytes)
	WriteKey     []byte // mutable writekey (16 bytes)
	ReadKey      []byte // mutable readkey (16 bytes)
	StorageIndex []byte // 16 bytes; derived for read and write caps
	UEBHash      []byte // URI extension block hash (32 bytes)
	Fingerprint  []byte // RSA public key fingerprint (32 bytes)
	Needed       int    // k: shares needed to recover the file
	Total        int    // N: shares written
	Size         uint64 // file size in bytes (CHK)
	Data         []byte // LIT contents
	Raw          string // Unknown caps: the verbatim string
}

// MaxShares is the largest share count zfec (and so Tahoe) supports.
const MaxShares = 256

// NewCHK returns the CHK read cap for an immutable file.
func NewCHK(key, uebHash []byte, needed, total int, size uint64) (*Cap, error) {
	c := &Cap{Kind: KindCHK, Key: key, UEBHash: uebHash, Needed: needed, Total: total, Size: size}
	if err := c.checkCHK(); err != nil {
		return nil, err
	}
	c.StorageIndex = StorageIndexCHK(key)
	return c, nil
}

// NewLIT returns the literal cap holding data.
func NewLIT(data []byte) *Cap { return &Cap{Kind: KindLIT, Data: data} }

// NewSSK returns an SDMF writecap from its writekey and fingerprint.
func NewSSK(writekey, fingerprint []byte) *Cap {
	return newMutableWrite(KindSSK, writekey, fingerprint)
}

// NewMDMF returns an MDMF writecap from its writekey and fingerprint.
func NewMDMF(writekey, fingerprint []byte) *Cap {
	return newMutableWrite(KindMDMF, writekey, fingerprint)
}

func newMutableWrite(k Kind, writekey, fingerprint []byte) *Cap {
	rk := MutableReadKey(writekey)
	return &Cap{Kind: k, WriteKey: writekey, ReadKey: rk, StorageIndex: MutableStorageIndex(rk), Fingerprint: fingerprint}
}

func (c *Cap) info() kindInfo {
	ki, _ := infoOf(c.Kind)
	return ki
}

// IsUnknown reports whether c is a cap this package does not understand
// (kept verbatim for forward compatibility).
func (c *Cap) IsUnknown() bool { _, ok := infoOf(c.Kind); return !ok }

// IsDirectory reports whether c is a directory cap.
func (c *Cap) IsDirectory() bool { return c.info().dir }

// Level reports how much authority c grants. Unknown caps report LevelVerify
// with ok false.
func (c *Cap) Level() (Level, bool) {
	ki, ok := infoOf(c.Kind)
	return ki.level, ok
}

// IsMutable reports whether the object behind c can change (Tahoe's
// is_mutable: false for verify caps, which cannot observe a change).
func (c *Cap) IsMutable() bool {
	ki, ok := infoOf(c.Kind)
	if !ok {
		return false
	}
	switch ki.fam {
	case famSSK, famSSKRO, famMDMF, famMDMFRO:
		return true
	}
	return false
}

// IsReadOnly reports whether c lacks write authority.
func (c *Cap) IsReadOnly() bool {
	l, ok := c.Level()
	return ok && l != LevelWrite
}

// SizeKnown reports whether the cap carries the file's size, and the size.
// Only CHK and LIT file caps do (Tahoe's get_size).
func (c *Cap) SizeKnown() (uint64, bool) {
	switch c.Kind {
	case KindCHK:
		return c.Size, true
	case KindLIT:
		return uint64(len(c.Data)), true
	}
	return 0, false
}

// String formats c in Tahoe's canonical form. For unknown caps it returns
// the string as given.
func (c *Cap) String() string {
	ki, ok := infoOf(c.Kind)
	if !ok {
		return c.Raw
	}
	var b strings.Builder
	b.WriteString(c.Kind.Prefix())
	switch ki.fam {
	case famCHK, famCHKVerifier:
		first := c.Key
		if ki.fam == famCHKVerifier {
			first = c.StorageIndex
		}
		b.WriteString(Base32Encode(first))
		b.WriteByte(':')
		b.WriteString(Base32Encode(c.UEBHash))
		fmt.Fprintf(&b, ":%d:%d:%d", c.Needed, c.Total, c.Size)
	case famLIT:
		b.WriteString(Base32Encode(c.Data))
	case famSSK, famMDMF:
		b.WriteString(Base32Encode(c.WriteKey))
		b.WriteByte(':')
		b.WriteString(Base32Encode(c.Fingerprint))
	case famSSKRO, famMDMFRO:
		b.WriteString(Base32Encode(c.ReadKey))
		b.WriteByte(':')
		b.WriteString(Base32Encode(c.Fingerprint))
	case famSSKVerifier, famMDMFVerifier:
		b.WriteString(Base32Encode(c.StorageIndex))
		b.WriteByte(':')
		b.WriteString(Base32Encode(c.Fingerprint))
	}
	return b.String()
}

// ReadOnly returns the read-only form of c: c itself when it is already read
// only (verify caps included, as in Tahoe), nil for unknown caps.
func (c *Cap) ReadOnly() *Cap {
	ki, ok := infoOf(c.Kind)
	if !ok {
		return nil
	}
	switch ki.fam {
	case famSSK:
		return &Cap{Kind: kindFor(famSSKRO, ki.dir), ReadKey: c.ReadKey, StorageIndex: c.StorageIndex, Fingerprint: c.Fingerprint}
	case famMDMF:
		return &Cap{Kind: kindFor(famMDMFRO, ki.dir), ReadKey: c.ReadKey, StorageIndex: c.StorageIndex, Fingerprint: c.Fingerprint}
	}
	return c
}

// Verifier returns the verify cap of c, c itself for a verify cap, and nil
// where none exists (LIT files and directories, unknown caps). Tahoe raises
// for DIR2-CHK-Verifier and DIR2-MDMF-Verifier; a verify cap verifies as
// itself here.
func (c *Cap) Verifier() *Cap {
	ki, ok := infoOf(c.Kind)
	if !ok {
		return nil
	}
	switch ki.fam {
	case famCHK:
		return &Cap{Kind: kindFor(famCHKVerifier, ki.dir), StorageIndex: c.StorageIndex, UEBHash: c.UEBHash, Needed: c.Needed, Total: c.Total, Size: c.Size}
	case famLIT:
		return nil
	case famSSK, famSSKRO:
		return &Cap{Kind: kindFor(famSSKVerifier, ki.dir), StorageIndex: c.StorageIndex, Fingerprint: c.Fingerprint}
	case famMDMF, famMDMFRO:
		return &Cap{Kind: kindFor(famMDMFVerifier, ki.dir), StorageIndex: c.StorageIndex, Fingerprint: c.Fingerprint}
	}
	return c
}

// Attenuate returns the cap for the requested authority level, which must
// not exceed c's own. It fails for unknown caps and where the level does not
// exist (a LIT file has no verify cap).
func (c *Cap) Attenuate(to Level) (*Cap, error) {
	have, ok := c.Level()
	if !ok {
		return nil, fmt.Errorf("cannot diminish an unknown kind of cap (%s)", describeUnknown(c.Raw))
	}
	if to > have {
		return nil, fmt.Errorf("cannot attenuate a %s cap (%s) to a %s cap: that would be stronger, not weaker", have, c.Kind, to)
	}
	switch to {
	case LevelWrite:
		return c, nil
	case LevelRead:
		return c.ReadOnly(), nil
	}
	v := c.Verifier()
	if v == nil {
		return nil, fmt.Errorf("a %s cap has no verify cap: its data is inside the cap itself", c.Kind)
	}
	return v, nil
}

func describeUnknown(raw string) string {
	if i := strings.IndexByte(raw[min(len(raw), 4):], ':'); strings.HasPrefix(raw, "URI:") && i >= 0 {
		return "kind " + strconv.Quote(raw[4:4+i])
	}
	if len(raw) > 24 {
		raw = raw[:24] + "..."
	}
	return "not a URI: cap: " + strconv.Quote(raw)
}

// Equal reports whether a and b are the same cap.
func (c *Cap) Equal(o *Cap) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.Kind == o.Kind && c.String() == o.String()
}

// ErrInvalid is wrapped by every error Parse returns for a string that has a
// known kind's prefix but is not a valid cap of that kind.
var ErrInvalid = errors.New("invalid capability")

// ParseError says why a string is not a valid cap of the kind its prefix
// names.
type ParseError struct {
	Kind   Kind   // the kind the prefix named
	Reason string // what is wrong, for people
}

func (e *ParseError) Error() string {
	if e.Kind == "" {
		return "invalid capability: " + e.Reason
	}
	return fmt.Sprintf("invalid %s cap: %s", e.Kind, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ParseError) Unwrap() error { return ErrInvalid }

func (c *Cap) checkCHK() error {
	if len(c.Key) != KeyLen && c.Kind == KindCHK {
		return &ParseError{c.Kind, "key must be 16 bytes"}
	}
	if len(c.UEBHash) != 32 {
		return &ParseError{c.Kind, "URI extension hash must be 32 bytes"}
	}
	return checkEncoding(c.Kind, c.Needed, c.Total)
}

func checkEncoding(k Kind, needed, total int) error {
	switch {
	case needed < 1:
		return &ParseError{k, fmt.Sprintf("needed shares k=%d: must be at least 1", needed)}
	case total > MaxShares:
		return &ParseError{k, fmt.Sprintf("total shares N=%d: at most %d are possible", total, MaxShares)}
	case needed > total:
		return &ParseError{k, fmt.Sprintf("needed shares k=%d is more than total shares N=%d", needed, total)}
	}
	return nil
}
