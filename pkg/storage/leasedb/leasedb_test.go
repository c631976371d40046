package leasedb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/leasedb"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// vectorShare is one share file Tahoe's storage server wrote (a copy of
// the entries of ../shares/testdata's manifest that these tests use).
type vectorShare struct {
	Node  string `json:"node"`
	Shnum int    `json:"shnum"`
	Path  string `json:"path"`
}

type vectorEntry struct {
	StorageIndex string        `json:"storage_index"`
	Shares       []vectorShare `json:"shares"`
}

const vectorDir = "testdata/tahoe-share-files"

func loadVectors(t *testing.T) map[string]vectorEntry {
	raw, err := os.ReadFile(filepath.Join(vectorDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]vectorEntry{}
	for _, k := range []string{"chk", "mdmf"} {
		var e vectorEntry
		if err := json.Unmarshal(m[k], &e); err != nil {
			t.Fatal(err)
		}
		out[k] = e
	}
	return out
}

// installVectors puts node's shares of e into b.
func installVectors(t *testing.T, b backend.Backend, e vectorEntry, node string) {
	si, err := storage.ParseStorageIndex(e.StorageIndex)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range e.Shares {
		if s.Node != node {
			continue
		}
		data, err := os.ReadFile(filepath.Join(vectorDir, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		backendtest.Put(t, b, si, s.Shnum, data)
	}
}

var testBackends = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"disk", func(t *testing.T) backend.Backend {
		b, err := disk.Open(filepath.Join(t.TempDir(), "storage"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"mem", func(t *testing.T) backend.Backend { return mem.New(mem.Options{Capacity: 1 << 40}) }},
}

// TestLeaseDBMirrorsAndRebuilds uploads through a share store with a lease
// database, checks the rows, deletes the database and rebuilds it from the
// share store (including Tahoe's own share files, and a starter lease for a
// share that carries none).
func TestLeaseDBMirrorsAndRebuilds(t *testing.T) {
	for _, tb := range testBackends {
		t.Run(tb.name, func(t *testing.T) { testMirrorsAndRebuilds(t, tb.open(t)) })
	}
}

func testMirrorsAndRebuilds(t *testing.T, store backend.Backend) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "leasedb.sqlite")
	now := time.Unix(1_800_000_000, 0)
	db, err := leasedb.Open(ctx, dbPath, store, now)
	if err != nil {
		t.Fatal(err)
	}
	l := shares.New(store, shares.Options{Leases: db, Now: func() time.Time { return now }})
	defer l.Close()
	var si storage.StorageIndex
	copy(si[:], "leasedb-immut")
	lease := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
	if _, err := l.AllocateBuckets(ctx, si, lease, []byte("u"), []int{0, 1}, 100); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1} {
		if _, err := l.WriteShareChunk(ctx, si, n, []byte("u"), 0, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	var msi storage.StorageIndex
	copy(msi[:], "leasedb-mutable")
	nl := uint64(50)
	if _, err := l.ReadTestWrite(ctx, msi, storage.MutableSecrets{WriteEnabler: [32]byte{9}, Lease: lease}, storage.ReadTestWriteRequest{
		TestWriteVectors: map[uint64]storage.TestWriteVectors{4: {Write: []storage.WriteVector{{Offset: 0, Data: make([]byte, 50)}}, NewLength: &nl}},
	}); err != nil {
		t.Fatal(err)
	}
	// Renew with a second client's secrets a day later: two leases.
	now = now.Add(24 * time.Hour)
	if err := l.AddOrRenewLease(ctx, si, storage.LeaseSecrets{Renew: [32]byte{3}, Cancel: [32]byte{4}}); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Leases(ctx, si)
	if err != nil || len(recs) != 4 {
		t.Fatalf("leases of %s: %d, %v", si, len(recs), err)
	}
	used, count, err := db.SpaceUsed(ctx)
	if err != nil || used != 250 || count != 3 {
		t.Fatalf("space used %d in %d shares, %v", used, count, err)
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
	var bare storage.StorageIndex
	copy(bare[:], "leasedb-bare")
	// An immutable container (version 2, 10 data bytes) with no lease.
	backendtest.Put(t, store, bare, 2, append([]byte{0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0, 0}, make([]byte, 10)...))
	// And a file that is no share container at all: skipped.
	backendtest.Put(t, store, bare, 3, bytes.Repeat([]byte("junk"), 10))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	db, err = leasedb.Open(ctx, dbPath, store, now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if recs, _ := db.Leases(ctx, si); len(recs) != 4 {
		t.Fatalf("rebuilt leases of %s: %d", si, len(recs))
	}
	if _, count, _ := db.SpaceUsed(ctx); count != 6 {
		t.Fatalf("rebuilt shares: %d, want 6", count)
	}
	recs, err = db.Leases(ctx, bare)
	if err != nil || len(recs) != 1 || !recs[0].Starter || !recs[0].Expiration.Equal(now.Add(shares.LeaseDuration*time.Second)) {
		t.Fatalf("starter lease: %+v %v", recs, err)
	}
	vs := loadVectors(t)
	chkSI, _ := storage.ParseStorageIndex(vs["chk"].StorageIndex)
	recs, _ = db.Leases(ctx, chkSI)
	raw, err := os.ReadFile(filepath.Join(vectorDir, vs["chk"].Shares[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	info, err := shares.Inspect(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].RenewHash != info.Leases[0].RenewSecret || recs[0].Expiration.Unix() != int64(info.Leases[0].Expiration) {
		t.Fatalf("lease rebuilt from Tahoe's container: %+v", recs)
	}
}

func TestExpireShares(t *testing.T) {
	for _, tb := range testBackends {
		t.Run(tb.name, func(t *testing.T) { testExpireShares(t, tb.open(t)) })
	}
}

func testExpireShares(t *testing.T, store backend.Backend) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	db, err := leasedb.Open(ctx, filepath.Join(dir, "leases.sqlite"), store, now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := shares.New(store, shares.Options{Leases: db, Now: func() time.Time { return now }})
	defer l.Close()
	var old, fresh storage.StorageIndex
	old[0], fresh[0] = 1, 2
	for _, si := range []storage.StorageIndex{old, fresh} {
		if _, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 3); err != nil {
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
	if _, count, _ := db.SpaceUsed(ctx); count != 1 {
		t.Fatalf("database still counts %d shares", count)
	}
}

// TestConcurrentPutShareGroupCommit: many PutShare calls at once (group
// committed) each return only once their own record is there, every
// record with exactly its leases; a later PutShare of the same share
// replaces its leases; a failing group (the database closed) fails every
// caller rather than hanging one.
func TestConcurrentPutShareGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := leasedb.Open(ctx, filepath.Join(t.TempDir(), "leasedb.sqlite"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 40
	si := func(w, i int) storage.StorageIndex {
		var s storage.StorageIndex
		s[0], s[1], s[2] = 'g', byte(w), byte(i)
		return s
	}
	lease := func(w, i, k int) shares.Lease {
		var renew, cancel [32]byte
		renew[0], renew[1], renew[2] = byte(w), byte(i), byte(k)
		cancel[0] = 0xcc
		return shares.NewLease(0, renew[:], cancel[:], uint32(1_900_000_000+k), [20]byte{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ls := []shares.Lease{lease(w, i, 0)}
				if i%3 == 0 {
					ls = append(ls, lease(w, i, 1))
				}
				if err := db.PutShare(ctx, si(w, i), i%10, shares.KindImmutable, int64(100+i), ls); err != nil {
					errs <- err
					return
				}
				// Returned: the record must be there now.
				got, err := db.Leases(ctx, si(w, i))
				if err != nil || len(got) != len(ls) {
					errs <- fmt.Errorf("%d/%d after PutShare: %d leases (%v), want %d", w, i, len(got), err, len(ls))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	bytes, n, err := db.SpaceUsed(ctx)
	if err != nil || n != writers*each {
		t.Fatalf("SpaceUsed = %d shares (%v), want %d", n, err, writers*each)
	}
	if want := int64(writers * (each*100 + each*(each-1)/2)); bytes != want {
		t.Errorf("SpaceUsed = %d bytes, want %d", bytes, want)
	}
	// Replace: one lease instead of two.
	if err := db.PutShare(ctx, si(0, 0), 0, shares.KindImmutable, 100, []shares.Lease{lease(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Leases(ctx, si(0, 0)); err != nil || len(got) != 1 || got[0].RenewHash != lease(0, 0, 7).RenewSecret {
		t.Errorf("after replacing: %+v, %v", got, err)
	}
	db.Close()
	var failed sync.WaitGroup
	for w := 0; w < 8; w++ {
		failed.Add(1)
		go func() {
			defer failed.Done()
			if err := db.PutShare(ctx, si(w, 200), 0, shares.KindImmutable, 1, nil); err == nil {
				t.Error("PutShare on a closed database succeeded")
			}
		}()
	}
	failed.Wait()
}
