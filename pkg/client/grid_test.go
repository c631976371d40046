package client

import (
	"bytes"
	"crypto/sha1"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

func TestPermutedOrderIsTahoes(t *testing.T) {
	servers := []Server{{ID: "a", PermutationSeed: []byte("seed-a")}, {ID: "b", PermutationSeed: []byte("seed-b")}, {ID: "c", PermutationSeed: []byte("seed-c")}}
	si := []byte("0123456789abcdef")
	p := Permuted(servers, si)
	for i := 1; i < len(p); i++ {
		a := sha1.Sum(append(append([]byte{}, si...), p[i-1].PermutationSeed...))
		b := sha1.Sum(append(append([]byte{}, si...), p[i].PermutationSeed...))
		if bytes.Compare(a[:], b[:]) > 0 {
			t.Fatal("not ascending")
		}
	}
}

func TestLeaseSecretsDiffer(t *testing.T) {
	si := []byte("0123456789abcdef")
	a := LeaseSecrets([]byte("secret"), si, bytes.Repeat([]byte{1}, 20))
	b := LeaseSecrets([]byte("secret"), si, bytes.Repeat([]byte{2}, 20))
	if a.Renew == b.Renew || a.Renew == a.Cancel {
		t.Fatal("lease secrets must differ per server and per purpose")
	}
	want := caps.BucketRenewalSecret(caps.FileRenewalSecret(caps.ClientRenewalSecret([]byte("secret")), si), bytes.Repeat([]byte{1}, 20))
	if !bytes.Equal(a.Renew[:], want) {
		t.Fatal("renew secret is not Tahoe's derivation")
	}
}
