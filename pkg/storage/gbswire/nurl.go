package gbswire

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SPKIHash is a certificate's identity in GBS (RFC 7469): the unpadded
// URL-safe base64 of the SHA-256 of its DER SubjectPublicKeyInfo.
func SPKIHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NURL locates a GBS storage service: pb://SPKIHASH@HOST:PORT/SWISSNUM#v=1.
// The swissnum is a secret: format a NURL for people with Redacted.
type NURL struct {
	SPKIHash string
	Host     string
	Port     int
	Swissnum string
}

// String formats the NURL in exactly the form Tahoe's parser accepts,
// swissnum included.
func (n NURL) String() string {
	return "pb://" + n.SPKIHash + "@" + net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) + "/" + n.Swissnum + "#v=1"
}

// Redacted formats the NURL with its swissnum elided, for logs.
func (n NURL) Redacted() string {
	return "pb://" + n.SPKIHash + "@" + net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) + "/[REDACTED]#v=1"
}

// Address is HOST:PORT.
func (n NURL) Address() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// ParseNURL parses a GBS NURL. It rejects Foolscap FURLs (no "#v=1") and
// connection hints of the "tcp:HOST:PORT" form. Errors never quote the
// swissnum.
func ParseNURL(s string) (NURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return NURL{}, fmt.Errorf("NURL: not a URL")
	}
	if u.Scheme != "pb" {
		return NURL{}, fmt.Errorf("NURL: scheme %q, want pb", u.Scheme)
	}
	if u.Fragment != "v=1" {
		return NURL{}, fmt.Errorf("NURL: missing #v=1 (a Foolscap FURL?)")
	}
	if u.User == nil || u.User.Username() == "" {
		return NURL{}, fmt.Errorf("NURL: missing SPKI hash")
	}
	h := u.User.Username()
	if b, err := base64.RawURLEncoding.DecodeString(h); err != nil || len(b) != sha256.Size {
		return NURL{}, fmt.Errorf("NURL: SPKI hash is not unpadded base64url SHA-256")
	}
	host, portS, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || strings.Contains(host, ":") && !strings.Contains(u.Host, "[") {
		return NURL{}, fmt.Errorf("NURL: want HOST:PORT")
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port <= 0 || port > 65535 {
		return NURL{}, fmt.Errorf("NURL: bad port")
	}
	sw := strings.TrimPrefix(u.Path, "/")
	if sw == "" || strings.Contains(sw, "/") {
		return NURL{}, fmt.Errorf("NURL: want one swissnum path segment")
	}
	return NURL{SPKIHash: h, Host: host, Port: port, Swissnum: sw}, nil
}

// FURL formats Tahoe's Foolscap form of the same service:
// pb://TUBID@tcp:HOST:PORT/SWISSNUM (a secret, like the NURL).
func FURL(tubID, host string, port int, swissnum string) string {
	return "pb://" + tubID + "@tcp:" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" + swissnum
}
