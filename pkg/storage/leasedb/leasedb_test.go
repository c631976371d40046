package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLeaseDBMirrorsAndRebuilds uploads through a Local with a lease
// database, checks the rows, deletes the database and rebuilds it from the
// share store (including Tahoe's own share files, and a starter lease for a
// share that carries none).
func TestLeaseDBMirrorsAndRebuilds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := OpenDiskStore(filepath.Join(dir, "storage"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "leasedb.sqlite")
	now := time.Unix(1_800_000_000, 0)
	db, err := OpenLeaseDB(ctx, dbPath, store, now)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{Leases: db, Now: func() time.Time { return now }})
	var si StorageIndex
	copy(si[:], "leasedb-immut")
	lease := LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
	if _, err := l.AllocateBuckets(ctx, si, lease, []byte("u"), []int{0, 1}, 100); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1} {
		if _, err := l.WriteShareChunk(ctx, si, n, []byte("u"), 0, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	var msi StorageIndex
	copy(msi[:], "leasedb-mutable")
	nl := uint64(50)
	if _, err := l.ReadTestWrite(ctx, msi, MutableSecrets{WriteEnabler: [32]byte{9}, Lease: lease}, ReadTestWriteRequest{
		TestWriteVectors: map[uint64]TestWriteVectors{4: {Write: []WriteVector{{0, make([]byte, 50)}}, NewLength: &nl}},
	}); err != nil {
		t.Fatal(err)
	}
	// Renew with a second client's secrets a day later: two leases.
	now = now.Add(24 * time.Hour)
	if err := l.AddOrRenewLease(ctx, si, LeaseSecrets{Renew: [32]byte{3}, Cancel: [32]byte{4}}); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Leases(ctx, si)
	if err != nil || len(recs) != 4 {
		t.Fatalf("leases of %s: %d, %v", si, len(recs), err)
	}
	used, shares, err := db.SpaceUsed(ctx)
	if err != nil || used != 250 || shares != 3 {
		t.Fatalf("space used %d in %d shares, %v", used, shares, err)
	}
	expired, err := db.ExpiredShares(ctx, now.Add(31*24*time.Hour-time.Hour))
	if err != nil || len(expired) != 1 || expired[0].StorageIndex != msi {
		t.Fatalf("expired after 30 days: %v %v", expired, err)
	}
	if expired, _ := db.ExpiredShares(ctx, now.Add(40*24*time.Hour)); len(expired) != 3 {
		t.Fatalf("expired after 40 days: %v", expired)
	}
	db.Close()

	// Add Tahoe's share files and a share with no lease, then lose the database.
	for name, e := range loadVectors(t) {
		if name == "chk" || name == "mdmf" {
			installVectors(t, store, e, "s1")
		}
	}
	var bare StorageIndex
	copy(bare[:], "leasedb-bare")
	c, err := createImmutable(filepath.Join(t.TempDir(), "x"), 10)
	if err != nil {
		t.Fatal(err)
	}
	c.WriteData(make([]byte, 10), 0)
	c.Close()
	os.MkdirAll(store.BucketDir(bare), 0o755)
	if err := os.Rename(c.f.Name(), store.SharePath(bare, 2)); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	db, err = OpenLeaseDB(ctx, dbPath, store, now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if recs, _ := db.Leases(ctx, si); len(recs) != 4 {
		t.Fatalf("rebuilt leases of %s: %d", si, len(recs))
	}
	if _, shares, _ := db.SpaceUsed(ctx); shares != 6 {
		t.Fatalf("rebuilt shares: %d, want 6", shares)
	}
	recs, err = db.Leases(ctx, bare)
	if err != nil || len(recs) != 1 || !recs[0].Starter || !recs[0].Expiration.Equal(now.Add(leaseRenewalSeconds*time.Second)) {
		t.Fatalf("starter lease: %+v %v", recs, err)
	}
	vs := loadVectors(t)
	chkSI, _ := ParseStorageIndex(vs["chk"].StorageIndex)
	recs, _ = db.Leases(ctx, chkSI)
	p := parseShareFile(t, filepath.Join(vectorDir, vs["chk"].Shares[0].Path))
	if len(recs) != 1 || recs[0].RenewHash != p.leases[0].RenewSecret || recs[0].Expiration.Unix() != int64(p.leases[0].Expiration) {
		t.Fatalf("lease rebuilt from Tahoe's container: %+v", recs)
	}
}

func TestExpireShares(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := OpenDiskStore(filepath.Join(dir, "storage"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	db, err := OpenLeaseDB(ctx, filepath.Join(dir, "leases.sqlite"), store, now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := NewLocal(store, LocalOptions{Leases: db, Now: func() time.Time { return now }})
	var old, fresh StorageIndex
	old[0], fresh[0] = 1, 2
	for _, si := range []StorageIndex{old, fresh} {
		if _, err := l.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := l.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("abc")); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * 24 * time.Hour)
	}
	// old's lease ran out 9 days after fresh's upload; fresh's has 22 days left.
	n, err := l.ExpireShares(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if s, _ := l.ListShares(ctx, old); len(s) != 0 {
		t.Fatalf("expired share still listed: %v", s)
	}
	if s, _ := l.ListShares(ctx, fresh); len(s) != 1 {
		t.Fatalf("live share deleted: %v", s)
	}
	if _, shares, _ := db.SpaceUsed(ctx); shares != 1 {
		t.Fatalf("database still counts %d shares", shares)
	}
}
