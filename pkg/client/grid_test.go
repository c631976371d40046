package client

import (
	"bytes"
	"context"
	"crypto/sha1"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

func TestLocalGridRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := CreateLocalGrid(dir, 5); err != nil {
		t.Fatal(err)
	}
	if err := CreateLocalGrid(dir, 5); err == nil {
		t.Fatal("second CreateLocalGrid succeeded")
	}
	if !HasLocalGrid(dir) {
		t.Fatal("HasLocalGrid false")
	}
	servers, err := OpenLocalGrid(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer CloseServers(servers)
	if len(servers) != 5 {
		t.Fatalf("%d servers", len(servers))
	}
	si := caps.StorageIndexCHK(make([]byte, 16))
	ssi, err := toSI(si)
	if err != nil {
		t.Fatal(err)
	}
	s := servers[0]
	if _, err := s.Storage.Version(ctx); err != nil {
		t.Fatal(err)
	}
	secret := []byte("upload-secret-upload-secret-1234")
	lease := LeaseSecrets([]byte("client"), si, s.LeaseSeed)
	if _, err := s.Storage.AllocateBuckets(ctx, ssi, lease, secret, []int{3}, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Storage.WriteShareChunk(ctx, ssi, 3, secret, 0, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// A reopened grid still has the share.
	CloseServers(servers)
	servers, err = OpenLocalGrid(dir)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s2 := range servers {
		if s2.ID != s.ID {
			continue
		}
		got, err := s2.Storage.ReadShareChunk(ctx, ssi, 3, 0, 100)
		if err != nil || !bytes.Equal(got, []byte("hello")) {
			t.Fatalf("read back %q %v", got, err)
		}
		found = true
	}
	if !found {
		t.Fatal("server lost on reopen")
	}
}

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
