package shares

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
	"github.com/lafs/lafs/pkg/storage/leaselog"
)

// s3Opener starts versitygw and returns an opener of backends, each on a
// fresh bucket.
func s3Opener(t *testing.T) (*s3test.Server, func(t *testing.T) backend.Backend) {
	srv := s3test.Start(t)
	return srv, func(t *testing.T) backend.Backend {
		cfg := s3.Config{
			URL: srv.URL, Region: srv.Region, Bucket: s3test.BucketName(), Prefix: "node",
			AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey,
			SpoolDir: t.TempDir(), Attempts: 1,
		}
		if err := s3.CreateBucket(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		b, err := s3.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
}

// TestStoreOverS3 runs the store's backend-generic tests over S3: among
// them, Tahoe's share containers written through the store come out
// byte-identical to Tahoe's own files, as on disk.
func TestStoreOverS3(t *testing.T) {
	_, open := s3Opener(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, func(*testing.T) backend.Backend)
	}{
		{"AbortIdleUploads", testAbortIdleUploads},
		{"MutableWriteLimits", testMutableWriteLimits},
		{"VectorServeAndWrite", testVectorServeAndWrite},
		{"V1Containers", testV1Containers},
		{"LeaseLog", testLeaseLog},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func TestLeaseLog(t *testing.T) {
	testLeaseLog(t, func(*testing.T) backend.Backend { return mem.New(mem.Options{}) })
}

// testLeaseLog: with a lease log, renewals of complete shares go to the
// log and leave the containers untouched; expiry deletes what the log says
// has expired and records the deletion.
func testLeaseLog(t *testing.T, open func(*testing.T) backend.Backend) {
	ctx := context.Background()
	b := open(t)
	ll, err := leaselog.Open(ctx, b, leaselog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ll.Close()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	policy := leaselog.Policy{Mode: leaselog.ModeAge, Immutable: true, Mutable: true}
	st := New(b, Options{LeaseLog: leaselog.Recorder{Store: ll, Policy: policy}, Now: clock})
	defer st.Close()

	si, other := backendtest.SI(1), backendtest.SI(2)
	a := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
	bb := storage.LeaseSecrets{Renew: [32]byte{3}, Cancel: [32]byte{4}}
	data := bytes.Repeat([]byte("share data "), 1000)
	upload := func(si storage.StorageIndex, sec storage.LeaseSecrets) {
		t.Helper()
		res, err := st.AllocateBuckets(ctx, si, sec, []byte("up"), []int{0, 1}, uint64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range res.Allocated {
			if _, err := st.WriteShareChunk(ctx, si, n, []byte("up"), 0, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	upload(si, a)
	upload(other, a)
	ls, err := ll.Leases(ctx, si)
	if err != nil || len(ls) != 1 {
		t.Fatalf("leases after upload: %+v, %v", ls, err)
	}
	if ls[0].RenewHash != blake2b.Sum256(a.Renew[:]) || ls[0].Kind != leaselog.Immutable || !ls[0].Renewed.Equal(now) {
		t.Errorf("lease after upload = %+v", ls[0])
	}
	before := backendtest.Get(t, b, si, 0)

	// A month later: one renewal by another holder, one re-upload by the
	// first (Tahoe renews existing shares on allocation).
	now = now.Add(30 * 24 * time.Hour)
	if err := st.AddOrRenewLease(ctx, si, bb); err != nil {
		t.Fatal(err)
	}
	upload(si, a)
	if got := backendtest.Get(t, b, si, 0); !bytes.Equal(got, before) {
		t.Error("a renewal rewrote the container")
	}
	if ls, _ := ll.Leases(ctx, si); len(ls) != 2 {
		t.Errorf("leases after renewals: %d, want 2", len(ls))
	}
	if err := st.AddOrRenewLease(ctx, backendtest.SI(9), a); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("renewal of an unknown index: %v, want ErrNotFound", err)
	}

	// Two more weeks: other's lease (31 days from the first upload) has
	// run out, si's renewed ones have not.
	now = now.Add(14 * 24 * time.Hour)
	n, err := st.ExpireShares(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("ExpireShares = %d, %v; want the 2 shares of the unrenewed index", n, err)
	}
	if got, _ := st.ListShares(ctx, other); len(got) != 0 {
		t.Errorf("expired index still has shares %v", got)
	}
	if got, _ := st.ListShares(ctx, si); len(got) != 2 {
		t.Errorf("renewed index lost shares: %v", got)
	}
	// The deletion is in the log: a cache rebuilt from the backend has no
	// lease on the collected index.
	fresh, err := leaselog.Open(ctx, b, leaselog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if ls, _ := fresh.Leases(ctx, other); len(ls) != 0 {
		t.Errorf("rebuilt cache has leases on the collected index: %+v", ls)
	}
	if ls, _ := fresh.Leases(ctx, si); len(ls) != 2 {
		t.Errorf("rebuilt cache has %d leases on the renewed index, want 2", len(ls))
	}

	// Mutable writes are leased in the log as mutable.
	mut := backendtest.SI(3)
	sec := storage.MutableSecrets{WriteEnabler: [32]byte{7}, Lease: a}
	if _, err := st.ReadTestWrite(ctx, mut, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
		0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("mutable")}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if ls, _ := ll.Leases(ctx, mut); len(ls) != 1 || ls[0].Kind != leaselog.Mutable {
		t.Errorf("mutable lease = %+v", ls)
	}
	// Deleting every share of a mutable index forgets it.
	zero := uint64(0)
	if _, err := st.ReadTestWrite(ctx, mut, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {NewLength: &zero}}}); err != nil {
		t.Fatal(err)
	}
	if ls, _ := ll.Leases(ctx, mut); len(ls) != 0 {
		t.Errorf("leases on a deleted mutable index: %+v", ls)
	}
}

// TestUploadSurvivesOutage: when S3 is down as an upload completes, the
// write fails with a clear error and the upload stays; once S3 is back the
// client's retry of its last write publishes the share.
func TestUploadSurvivesOutage(t *testing.T) {
	srv, open := s3Opener(t)
	ctx := context.Background()
	st := New(open(t), Options{})
	defer st.Close()
	si := backendtest.SI(5)
	lease := storage.LeaseSecrets{Renew: [32]byte{1}}
	data := bytes.Repeat([]byte("x"), 10000)
	if _, err := st.AllocateBuckets(ctx, si, lease, []byte("up"), []int{0}, uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteShareChunk(ctx, si, 0, []byte("up"), 0, data[:5000]); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	_, err := st.WriteShareChunk(ctx, si, 0, []byte("up"), 5000, data[5000:])
	if !errors.Is(err, s3.ErrUnavailable) {
		t.Fatalf("last write with S3 down: %v, want ErrUnavailable", err)
	}
	t.Logf("error: %v", err)
	srv.Restart(t)
	res, err := st.WriteShareChunk(ctx, si, 0, []byte("up"), 5000, data[5000:])
	if err != nil || !res.Complete {
		t.Fatalf("retried write: %+v, %v", res, err)
	}
	got, err := st.ReadShareChunk(ctx, si, 0, 0, uint64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
