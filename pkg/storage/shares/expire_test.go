package shares_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/expiry"
	"github.com/lafs/lafs/pkg/storage/leasedb"
	"github.com/lafs/lafs/pkg/storage/shares"
)

func secrets(b byte) storage.LeaseSecrets {
	var l storage.LeaseSecrets
	for i := range l.Renew {
		l.Renew[i], l.Cancel[i] = b, b+1
	}
	return l
}

func putImmutable(t *testing.T, s *shares.Store, si storage.StorageIndex, lease storage.LeaseSecrets) {
	t.Helper()
	ctx := context.Background()
	secret := []byte("upload secret, 32 bytes long....")
	if _, err := s.AllocateBuckets(ctx, si, lease, secret, []int{0, 1}, 10); err != nil {
		t.Fatal(err)
	}
	for _, sh := range []int{0, 1} {
		if res, err := s.WriteShareChunk(ctx, si, sh, secret, 0, []byte("0123456789")); err != nil || !res.Complete {
			t.Fatalf("write: %+v %v", res, err)
		}
	}
}

func putMutable(t *testing.T, s *shares.Store, si storage.StorageIndex, lease storage.LeaseSecrets) {
	t.Helper()
	req := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
		0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("mutable share data")}}},
	}}
	res, err := s.ReadTestWrite(context.Background(), si, storage.MutableSecrets{Lease: lease}, req)
	if err != nil || !res.Success {
		t.Fatalf("read-test-write: %+v %v", res, err)
	}
}

func listAll(t *testing.T, s *shares.Store, sis ...storage.StorageIndex) map[storage.StorageIndex][]int {
	t.Helper()
	out := map[storage.StorageIndex][]int{}
	for _, si := range sis {
		a, err := s.ListShares(context.Background(), si)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.ListMutableShares(context.Background(), si)
		if err != nil {
			t.Fatal(err)
		}
		if all := append(a, m...); len(all) > 0 {
			out[si] = all
		}
	}
	return out
}

// TestExpireByPolicy: with a 10-second lease duration (override), shares
// not renewed disappear and renewed ones stay; kinds excluded from expiry
// stay; cutoff-date mode drops leases renewed before the cutoff. With and
// without a lease database.
func TestExpireByPolicy(t *testing.T) {
	for _, withDB := range []bool{false, true} {
		t.Run(map[bool]string{false: "walk", true: "leasedb"}[withDB], func(t *testing.T) {
			ctx := context.Background()
			t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			now := t0
			dir := t.TempDir()
			b, err := disk.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			opts := shares.Options{Now: func() time.Time { return now }}
			if withDB {
				db, err := leasedb.Open(ctx, filepath.Join(dir, "leases.sqlite"), b, now)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				opts.Leases = db
			}
			s := shares.New(b, opts)
			t.Cleanup(func() { s.Close(); b.Close() })
			stale, renewed, mut := storage.StorageIndex{1}, storage.StorageIndex{2}, storage.StorageIndex{3}
			putImmutable(t, s, stale, secrets(1))
			putImmutable(t, s, renewed, secrets(2))
			putMutable(t, s, mut, secrets(3))

			now = t0.Add(5 * time.Second)
			if err := s.AddOrRenewLease(ctx, renewed, secrets(9)); err != nil { // a second lease, newer
				t.Fatal(err)
			}
			tenSeconds := expiry.Policy{Enabled: true, Mode: expiry.ModeAge, OverrideLeaseDuration: 10 * time.Second, Immutable: true}
			now = t0.Add(12 * time.Second)
			off := tenSeconds
			off.Enabled = false
			if n, err := s.ExpireByPolicy(ctx, off, now); err != nil || n != 0 {
				t.Fatalf("disabled: %d %v", n, err)
			}
			n, err := s.ExpireByPolicy(ctx, tenSeconds, now)
			if err != nil || n != 2 {
				t.Fatalf("expired %d shares, %v; want the 2 unrenewed immutable ones", n, err)
			}
			got := listAll(t, s, stale, renewed, mut)
			if _, ok := got[stale]; ok || !slices.Equal(got[renewed], []int{0, 1}) || !slices.Equal(got[mut], []int{0}) {
				t.Fatalf("after expiry: %v", got)
			}
			// Mutable shares may expire too.
			tenSeconds.Mutable = true
			if n, err := s.ExpireByPolicy(ctx, tenSeconds, now); err != nil || n != 1 {
				t.Fatalf("mutable expiry: %d %v", n, err)
			}
			// The renewed shares go once their newest lease is 10 s old.
			if n, err := s.ExpireByPolicy(ctx, tenSeconds, t0.Add(14*time.Second)); err != nil || n != 0 {
				t.Fatalf("at 14 s: %d %v", n, err)
			}
			// Cutoff-date: renewed (at t0+5s) after a cutoff at t0+1s stays;
			// a cutoff at t0+6s takes it.
			cut := expiry.Policy{Enabled: true, Mode: expiry.ModeCutoffDate, CutoffDate: t0.Add(time.Second), Immutable: true, Mutable: true}
			if n, err := s.ExpireByPolicy(ctx, cut, now); err != nil || n != 0 {
				t.Fatalf("cutoff before the renewal: %d %v", n, err)
			}
			cut.CutoffDate = t0.Add(6 * time.Second)
			if n, err := s.ExpireByPolicy(ctx, cut, now); err != nil || n != 2 {
				t.Fatalf("cutoff after the renewal: %d %v", n, err)
			}
			if got := listAll(t, s, stale, renewed, mut); len(got) != 0 {
				t.Errorf("left: %v", got)
			}
		})
	}
}
