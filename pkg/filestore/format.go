package filestore

import (
	"fmt"
	"strings"
)

// Format is the format of a file or directory's backing file.
type Format int

// The formats. The zero value means "the default for the operation".
const (
	FormatDefault Format = iota
	FormatCHK            // immutable (LIT when small)
	FormatSDMF           // mutable, one segment
	FormatMDMF           // mutable, many segments
)

// ParseFormat reads a format name as Tahoe's format= argument and --format
// flag take it: CHK, SDMF or MDMF in any case; "" is FormatDefault.
func ParseFormat(s string) (Format, error) {
	switch strings.ToUpper(s) {
	case "":
		return FormatDefault, nil
	case "CHK":
		return FormatCHK, nil
	case "SDMF":
		return FormatSDMF, nil
	case "MDMF":
		return FormatMDMF, nil
	}
	return FormatDefault, fmt.Errorf("unknown format %q: want CHK, SDMF or MDMF", s)
}

// String is the format's name as Tahoe writes it ("" for the default).
func (f Format) String() string {
	switch f {
	case FormatCHK:
		return "CHK"
	case FormatSDMF:
		return "SDMF"
	case FormatMDMF:
		return "MDMF"
	}
	return ""
}

// Mutable reports whether the format is a mutable one.
func (f Format) Mutable() bool { return f == FormatSDMF || f == FormatMDMF }
