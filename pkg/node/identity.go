package node

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage/gbswire"
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

// Identity is a node's long-lived identity, kept in the node directory in
// Tahoe's files.
type Identity struct {
	// SigningKey is the ed25519 key (private/node.privkey).
	SigningKey ed25519.PrivateKey
	// Certificate is the TLS certificate and key (private/node.pem).
	Certificate tls.Certificate
	// PermutationSeed is the base32 seed of the permuted ring (permutation-seed).
	PermutationSeed string
	// Swissnum authorizes storage clients (from private/storage.furl).
	Swissnum string
}

// ServerID is the node's id in announcements and servers.yaml: "v0-" and
// the base32 public key.
func (id *Identity) ServerID() string {
	return "v0-" + caps.Base32Encode(id.SigningKey.Public().(ed25519.PublicKey))
}

// SPKIHash is the certificate's GBS identity.
func (id *Identity) SPKIHash() string { return gbswire.SPKIHash(id.Certificate.Leaf) }

// TubID is the certificate's Foolscap tub id.
func (id *Identity) TubID() string { return TubID(id.Certificate.Leaf.Raw) }

// NodeID is the 20-byte node id Tahoe derives from the tub id.
func (id *Identity) NodeID() [20]byte {
	n, _ := NodeIDFromTubID(id.TubID())
	return n
}

// LoadIdentity reads the node's identity files, creating any that are
// missing (as Tahoe does on first start).
func LoadIdentity(dir string) (*Identity, error) {
	priv := filepath.Join(dir, "private")
	if err := os.MkdirAll(priv, 0o700); err != nil {
		return nil, fmt.Errorf("create private directory: %w", err)
	}
	id := &Identity{}
	// ed25519 signing key.
	keyPath := filepath.Join(priv, "node.privkey")
	raw, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate node key: %w", err)
		}
		if err := os.WriteFile(keyPath, []byte("priv-v0-"+caps.Base32Encode(k.Seed())+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write node key: %w", err)
		}
		id.SigningKey = k
	case err != nil:
		return nil, fmt.Errorf("read node key: %w", err)
	default:
		s := strings.TrimSpace(string(raw))
		if !strings.HasPrefix(s, "priv-v0-") {
			return nil, fmt.Errorf("%s: not a priv-v0- key", keyPath)
		}
		seed, err := caps.Base32DecodeLen(strings.TrimPrefix(s, "priv-v0-"), ed25519.SeedSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyPath, err)
		}
		id.SigningKey = ed25519.NewKeyFromSeed(seed)
	}
	pub := id.SigningKey.Public().(ed25519.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "node.pubkey"), []byte("pub-v0-"+caps.Base32Encode(pub)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write node.pubkey: %w", err)
	}
	// TLS certificate.
	pemPath := filepath.Join(priv, "node.pem")
	pemBytes, err := os.ReadFile(pemPath)
	if errors.Is(err, fs.ErrNotExist) {
		c, k, gerr := GenerateCertificate()
		if gerr != nil {
			return nil, gerr
		}
		pemBytes = append(c, k...)
		if err := os.WriteFile(pemPath, pemBytes, 0o600); err != nil {
			return nil, fmt.Errorf("write node.pem: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read node.pem: %w", err)
	}
	if id.Certificate, err = tls.X509KeyPair(pemBytes, pemBytes); err != nil {
		return nil, fmt.Errorf("%s: %w", pemPath, err)
	}
	if id.Certificate.Leaf == nil {
		blk, _ := pem.Decode(pemBytes)
		if id.Certificate.Leaf, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("%s: %w", pemPath, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "my_nodeid"), []byte(id.TubID()+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write my_nodeid: %w", err)
	}
	// Permutation seed.
	seedPath := filepath.Join(dir, "permutation-seed")
	if b, err := os.ReadFile(seedPath); err == nil && strings.TrimSpace(string(b)) != "" {
		id.PermutationSeed = strings.TrimSpace(string(b))
	} else {
		id.PermutationSeed = caps.Base32Encode(pub)
		if err := os.WriteFile(seedPath, []byte(id.PermutationSeed+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write permutation-seed: %w", err)
		}
	}
	// Swissnum, kept in the storage FURL as Tahoe keeps it.
	furlPath := filepath.Join(priv, "storage.furl")
	if b, err := os.ReadFile(furlPath); err == nil {
		f := strings.TrimSpace(string(b))
		id.Swissnum = f[strings.LastIndex(f, "/")+1:]
	}
	if id.Swissnum == "" {
		sw := make([]byte, 20)
		if _, err := rand.Read(sw); err != nil {
			return nil, fmt.Errorf("generate swissnum: %w", err)
		}
		id.Swissnum = caps.Base32Encode(sw)
		if err := os.WriteFile(furlPath, []byte("pb://"+id.TubID()+"@/"+id.Swissnum+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write storage.furl: %w", err)
		}
	}
	return id, nil
}
