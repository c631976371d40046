package storage

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/caps"
)

// GenerateCertificate makes a self-signed TLS certificate and its key, both
// PEM-encoded. GBS clients trust it by its SPKI hash alone, so the validity
// period is long and the names are placeholders.
func GenerateCertificate() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "newpb_thingy"},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(100 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// SPKIHash is a certificate's identity in GBS (RFC 7469): the unpadded
// URL-safe base64 of the SHA-256 of its DER SubjectPublicKeyInfo.
func SPKIHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TubID is Foolscap's id for a certificate: the base32 of the SHA-1 of its
// DER encoding. Tahoe derives a storage server's node id (in mutable
// containers, write enablers and lease secrets) from it.
func TubID(certDER []byte) string {
	sum := sha1.Sum(certDER)
	return caps.Base32Encode(sum[:])
}

// NodeIDFromTubID decodes a tub id into the 20-byte node id.
func NodeIDFromTubID(tubID string) ([20]byte, error) {
	var id [20]byte
	b, err := caps.Base32DecodeLen(tubID, 20)
	if err != nil {
		return id, fmt.Errorf("tub id %q: %w", tubID, err)
	}
	copy(id[:], b)
	return id, nil
}

// NURL locates a GBS storage service: pb://SPKIHASH@HOST:PORT/SWISSNUM#v=1.
type NURL struct {
	SPKIHash string
	Host     string
	Port     int
	Swissnum string
}

// String formats the NURL in exactly the form Tahoe's parser accepts.
func (n NURL) String() string {
	return "pb://" + n.SPKIHash + "@" + net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) + "/" + n.Swissnum + "#v=1"
}

// Address is HOST:PORT.
func (n NURL) Address() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// ParseNURL parses a GBS NURL. It rejects Foolscap FURLs (no "#v=1") and
// connection hints of the "tcp:HOST:PORT" form.
func ParseNURL(s string) (NURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return NURL{}, fmt.Errorf("NURL %q: %w", s, err)
	}
	if u.Scheme != "pb" {
		return NURL{}, fmt.Errorf("NURL %q: scheme %q, want pb", s, u.Scheme)
	}
	if u.Fragment != "v=1" {
		return NURL{}, fmt.Errorf("NURL %q: missing #v=1 (a Foolscap FURL?)", s)
	}
	if u.User == nil || u.User.Username() == "" {
		return NURL{}, fmt.Errorf("NURL %q: missing SPKI hash", s)
	}
	h := u.User.Username()
	if b, err := base64.RawURLEncoding.DecodeString(h); err != nil || len(b) != sha256.Size {
		return NURL{}, fmt.Errorf("NURL %q: SPKI hash is not unpadded base64url SHA-256", s)
	}
	host, portS, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || strings.Contains(host, ":") && !strings.Contains(u.Host, "[") {
		return NURL{}, fmt.Errorf("NURL %q: want HOST:PORT", s)
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port <= 0 || port > 65535 {
		return NURL{}, fmt.Errorf("NURL %q: bad port", s)
	}
	sw := strings.TrimPrefix(u.Path, "/")
	if sw == "" || strings.Contains(sw, "/") {
		return NURL{}, fmt.Errorf("NURL %q: want one swissnum path segment", s)
	}
	return NURL{SPKIHash: h, Host: host, Port: port, Swissnum: sw}, nil
}

// FURL formats Tahoe's Foolscap form of the same service:
// pb://TUBID@tcp:HOST:PORT/SWISSNUM.
func FURL(tubID, host string, port int, swissnum string) string {
	return "pb://" + tubID + "@tcp:" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" + swissnum
}

// ServeTLS serves h over TLS with cert on ln until ctx is cancelled, then
// shuts down gracefully (in-flight requests get up to five seconds).
func ServeTLS(ctx context.Context, ln net.Listener, h http.Handler, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return fmt.Errorf("serve GBS: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve GBS: %w", err)
	}
	return nil
}
