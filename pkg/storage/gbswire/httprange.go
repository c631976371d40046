package gbswire

import (
	"mime"
	"strconv"
	"strings"
)

// ParseRange parses a Range header of the one form GBS allows: a single
// "bytes=FIRST-LAST" range with both ends given. It returns the half-open
// range [start, end).
func ParseRange(h string) (start, end uint64, ok bool) {
	unit, spec, found := strings.Cut(strings.TrimSpace(h), "=")
	if !found || strings.TrimSpace(unit) != "bytes" || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	first, last, ok := parseSpan(strings.TrimSpace(spec))
	if !ok {
		return 0, 0, false
	}
	return first, last + 1, true
}

// ParseContentRange parses a Content-Range header "bytes FIRST-LAST/LENGTH"
// (LENGTH may be "*"), returning [start, end) and the complete length (-1
// when "*").
func ParseContentRange(h string) (start, end uint64, length int64, ok bool) {
	unit, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || unit != "bytes" {
		return 0, 0, 0, false
	}
	spec, total, found := strings.Cut(strings.TrimSpace(rest), "/")
	if !found {
		return 0, 0, 0, false
	}
	first, last, ok := parseSpan(spec)
	if !ok {
		return 0, 0, 0, false
	}
	length = -1
	if total != "*" {
		n, err := ParseDecimal(total)
		if err != nil || n <= last || n > 1<<62 {
			return 0, 0, 0, false
		}
		length = int64(n)
	}
	return first, last + 1, length, true
}

func parseSpan(s string) (first, last uint64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	f, err1 := ParseDecimal(a)
	l, err2 := ParseDecimal(b)
	if err1 != nil || err2 != nil || l < f || l >= 1<<62 {
		return 0, 0, false
	}
	return f, l, true
}

// ParseDecimal parses a plain decimal number as HTTP headers and GBS paths
// carry it: digits only, no sign, at most 19 of them.
func ParseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 19 {
		return 0, strconv.ErrSyntax
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// Negotiate picks the response media type for an Accept header (RFC 9110
// §12.5.1): CBOR when the header is absent or CBOR is at least as acceptable
// as JSON; "" when neither is acceptable. An explicit media range overrides
// wildcards, and application/* overrides */*.
func Negotiate(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return MediaCBOR
	}
	// Quality per media type, with the specificity of the range that set it.
	type q struct {
		v    float64
		spec int
	}
	best := map[string]q{MediaCBOR: {-1, -1}, MediaJSON: {-1, -1}}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		v := 1.0
		if qs, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(qs, 64); err == nil && f >= 0 && f <= 1 {
				v = f
			}
		}
		for media := range best {
			spec := -1
			switch mt {
			case media:
				spec = 2
			case "application/*":
				spec = 1
			case "*/*":
				spec = 0
			}
			if spec > best[media].spec {
				best[media] = q{v, spec}
			}
		}
	}
	c, j := best[MediaCBOR].v, best[MediaJSON].v
	switch {
	case c > 0 && c >= j:
		return MediaCBOR
	case j > 0:
		return MediaJSON
	}
	return ""
}
