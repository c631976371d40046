package gbs

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// selfSigned returns a self-signed certificate for key.
func selfSigned(t *testing.T, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "newpb_thingy"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPinSPKI(t *testing.T) {
	mine := selfSigned(t, newKey(t))
	other := selfSigned(t, newKey(t))
	want := gbswire.SPKIHash(mine)
	cases := []struct {
		name  string
		certs []*x509.Certificate
		wrong bool // ErrWrongServer
		ok    bool
	}{
		{name: "the pinned key", certs: []*x509.Certificate{mine}, ok: true},
		{name: "another key", certs: []*x509.Certificate{other}, wrong: true},
		{name: "another key first, the pinned one behind it", certs: []*x509.Certificate{other, mine}, wrong: true},
		{name: "no certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := pinSPKI(want)(tls.ConnectionState{PeerCertificates: tc.certs})
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if errors.Is(err, ErrWrongServer) != tc.wrong {
				t.Fatalf("err %v: ErrWrongServer %v, want %v", err, errors.Is(err, ErrWrongServer), tc.wrong)
			}
		})
	}
}

// impostor signs with its own key while presenting another's public key.
type impostor struct {
	pub  crypto.PublicKey
	sign *ecdsa.PrivateKey
}

func (s impostor) Public() crypto.PublicKey { return s.pub }
func (s impostor) Sign(r io.Reader, digest []byte, o crypto.SignerOpts) ([]byte, error) {
	return s.sign.Sign(r, digest, o)
}

// TestPinNeedsThePrivateKey: a server that presents the pinned
// certificate (copied from the real server) without holding its private
// key fails the handshake, over TLS 1.3 and TLS 1.2 alike: the pin rests
// on the handshake's proof of the key, not on the certificate's bytes.
func TestPinNeedsThePrivateKey(t *testing.T) {
	victimKey := newKey(t)
	victim := selfSigned(t, victimKey)
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cert := tls.Certificate{Certificate: [][]byte{victim.Raw}, PrivateKey: impostor{pub: &victimKey.PublicKey, sign: newKey(t)}}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the impostor got a request: %s", r.URL.Path)
			}), ErrorLog: log.New(io.Discard, "", 0)}
			done := make(chan struct{})
			go func() { defer close(done); srv.Serve(ln) }()
			defer func() { srv.Close(); <-done }()
			n := gbswire.NURL{SPKIHash: gbswire.SPKIHash(victim), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Swissnum: "abcdefghijklmnopqrstuvwxyz234567"}
			c, err := New(n.String(), Options{Retries: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.Version(context.Background())
			if err == nil || !strings.Contains(err.Error(), "signature") {
				t.Fatalf("a server without the pinned key: %v", err)
			}
		})
	}
}

// TestWarm: a client is warm once a handshake has passed the pin, and not
// after one that failed it.
func TestWarm(t *testing.T) {
	ts := newServer(t)
	c := newClient(t, ts.nurl)
	if c.Warm() {
		t.Fatal("warm before any request")
	}
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !c.Warm() {
		t.Fatal("not warm after a request")
	}
	other := newServer(t)
	n, _ := gbswire.ParseNURL(ts.nurl)
	o, _ := gbswire.ParseNURL(other.nurl)
	n.SPKIHash = o.SPKIHash
	wrong := newClient(t, n.String())
	if _, err := wrong.Version(context.Background()); !errors.Is(err, ErrWrongServer) {
		t.Fatalf("wrong pin: %v", err)
	}
	if wrong.Warm() {
		t.Fatal("warm after the pin refused the server")
	}
}
