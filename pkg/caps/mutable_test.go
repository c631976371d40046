package caps

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
)

// TestMutableCapsFromRSAKeys derives the writecap of every SDMF and MDMF
// vector of Tahoe's published test vectors from its RSA key.
func TestMutableCapsFromRSAKeys(t *testing.T) {
	b, err := os.ReadFile("testdata/mutable-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Format   string `json:"format"`
			KeyPEM   string `json:"key_pem"`
			Expected string `json:"expected"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != 240 {
		t.Fatalf("%d vectors, want 240", len(f.Vectors))
	}
	for i, v := range f.Vectors {
		blk, _ := pem.Decode([]byte(v.KeyPEM))
		if blk == nil {
			t.Fatalf("vector %d: no PEM block", i)
		}
		var key *rsa.PrivateKey
		if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
			key = k
		} else if k8, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
			key = k8.(*rsa.PrivateKey)
		} else {
			t.Fatalf("vector %d: %v", i, err)
		}
		c, err := NewMutableWriteCap(key, v.Format == "mdmf")
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != v.Expected {
			t.Fatalf("vector %d (%s): %s, want %s", i, v.Format, c, v.Expected)
		}
	}
}
