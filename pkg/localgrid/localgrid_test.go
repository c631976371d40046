package localgrid

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/storage"
)

func TestLocalGridRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := Create(dir, 5); err != nil {
		t.Fatal(err)
	}
	if err := Create(dir, 5); err == nil {
		t.Fatal("second Create succeeded")
	}
	if !Exists(dir) {
		t.Fatal("Exists false")
	}
	servers, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseServers(servers)
	if len(servers) != 5 {
		t.Fatalf("%d servers", len(servers))
	}
	si := caps.StorageIndexCHK(make([]byte, 16))
	var ssi storage.StorageIndex
	copy(ssi[:], si)
	s := servers[0]
	if _, err := s.Storage.Version(ctx); err != nil {
		t.Fatal(err)
	}
	secret := []byte("upload-secret-upload-secret-1234")
	lease := client.LeaseSecrets([]byte("client"), si, s.LeaseSeed)
	if _, err := s.Storage.AllocateBuckets(ctx, ssi, lease, secret, []int{3}, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Storage.WriteShareChunk(ctx, ssi, 3, secret, 0, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// A reopened grid still has the share.
	client.CloseServers(servers)
	servers, err = Open(dir)
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

// TestMemoryGridKeepsNothingOnDisk: the in-memory grid has the same server
// identities as the on-disk one but writes no share into the node
// directory.
func TestMemoryGridKeepsNothingOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := Create(dir, 3); err != nil {
		t.Fatal(err)
	}
	onDisk, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	client.CloseServers(onDisk)
	inMem, err := OpenWith(dir, Options{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseServers(inMem)
	for i := range inMem {
		if inMem[i].ID != onDisk[i].ID || !bytes.Equal(inMem[i].LeaseSeed, onDisk[i].LeaseSeed) {
			t.Fatalf("server %d: identity %s, want %s", i, inMem[i].ID, onDisk[i].ID)
		}
	}
	var si storage.StorageIndex
	copy(si[:], caps.StorageIndexCHK(make([]byte, 16)))
	s := inMem[0]
	secret := []byte("upload-secret-upload-secret-1234")
	if _, err := s.Storage.AllocateBuckets(ctx, si, client.LeaseSecrets([]byte("c"), si[:], s.LeaseSeed), secret, []int{0}, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Storage.WriteShareChunk(ctx, si, 0, secret, 0, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Storage.ReadShareChunk(ctx, si, 0, 0, 5); err != nil || string(got) != "hello" {
		t.Fatalf("read back %q %v", got, err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, Dir, "*", "shares", "*", "*", "*"))
	if len(matches) != 0 {
		t.Fatalf("shares on disk: %v", matches)
	}
}
