package shares

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// TestSeparateWorlds: a storage index's mutable and immutable shares are
// separate worlds. With a mutable share 0 and an immutable share 1 planted
// under one storage index, no operation of one kind lists, counts, reads,
// advises on or reports as held a share of the other kind, and writes
// across kinds are refused with a client error.
func TestSeparateWorlds(t *testing.T) { forEachBackend(t, testSeparateWorlds) }

func testSeparateWorlds(t *testing.T, open func(t *testing.T) backend.Backend) {
	ctx := context.Background()
	var si storage.StorageIndex
	copy(si[:], "two worlds")
	we := storage.MutableSecrets{WriteEnabler: [32]byte{7}}
	plant := func(t *testing.T) *Store {
		s := newStore(t, open, Options{})
		nl := uint64(5)
		if _, err := s.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
			0: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("mutbl")}}, NewLength: &nl},
		}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{1}, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteShareChunk(ctx, si, 1, []byte("u"), 0, []byte("immut")); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		// run returns the outcome, compared with want; wantErr, when set,
		// is the error the outcome must wrap.
		run     func(s *Store) (any, error)
		want    string
		wantErr error
	}{
		{"immutable list omits the mutable share", func(s *Store) (any, error) { return s.ListShares(ctx, si) }, "[1]", nil},
		{"mutable list omits the immutable share", func(s *Store) (any, error) { return s.ListMutableShares(ctx, si) }, "[0]", nil},
		{"immutable read of the mutable share", func(s *Store) (any, error) { return s.ReadShareChunk(ctx, si, 0, 0, 5) }, "", storage.ErrNotFound},
		{"mutable read of the immutable share", func(s *Store) (any, error) { return s.ReadMutableShareChunk(ctx, si, 1, 0, 5) }, "", storage.ErrNotFound},
		{"immutable open of the mutable share", func(s *Store) (any, error) { return s.OpenShare(ctx, si, 0, false) }, "", storage.ErrNotFound},
		{"mutable open of the immutable share", func(s *Store) (any, error) { return s.OpenShare(ctx, si, 1, true) }, "", storage.ErrNotFound},
		{"allocate counts only immutable shares as held", func(s *Store) (any, error) {
			r, err := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("v"), []int{0, 1, 2}, 5)
			return fmt.Sprint(r.AlreadyHave, r.Allocated), err
		}, "[1] [2]", nil},
		{"abort of the mutable share's number", func(s *Store) (any, error) { return nil, s.AbortUpload(ctx, si, 0, []byte("u")) }, "", storage.ErrNotFound},
		{"immutable advisory on the mutable share", func(s *Store) (any, error) { return nil, s.AdviseCorruptShare(ctx, si, 0, "bad") }, "", storage.ErrNotFound},
		{"mutable advisory on the immutable share", func(s *Store) (any, error) { return nil, s.AdviseCorruptMutableShare(ctx, si, 1, "bad") }, "", storage.ErrNotFound},
		{"read-test-write reads only mutable shares", func(s *Store) (any, error) {
			r, err := s.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{ReadVector: []storage.ReadVector{{Offset: 0, Size: 5}}})
			return fmt.Sprintf("%v %d %s", r.Success, len(r.Data), r.Data[0]), err
		}, "true 1 [mutbl]", nil},
		{"read-test-write over the immutable share", func(s *Store) (any, error) {
			return s.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
				1: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("x")}}},
			}})
		}, "", storage.ErrConflict},
		{"read-test-write deleting the immutable share", func(s *Store) (any, error) {
			zero := uint64(0)
			return s.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{1: {NewLength: &zero}}})
		}, "", storage.ErrConflict},
		{"a test vector on the immutable share sees nothing", func(s *Store) (any, error) {
			r, err := s.ReadTestWrite(ctx, si, we, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
				1: {Test: []storage.TestVector{{Offset: 0, Size: 5, Specimen: []byte("immut")}}},
			}})
			return r.Success, err
		}, "false", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := plant(t)
			got, err := tc.run(s)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
			} else if err != nil || fmt.Sprint(got) != tc.want {
				t.Fatalf("got %v, %v; want %s", got, err, tc.want)
			}
			// Whatever was asked, both shares are intact.
			if b, err := s.ReadMutableShareChunk(ctx, si, 0, 0, 10); err != nil || string(b) != "mutbl" {
				t.Errorf("mutable share now %q, %v", b, err)
			}
			if b, err := s.ReadShareChunk(ctx, si, 1, 0, 10); err != nil || string(b) != "immut" {
				t.Errorf("immutable share now %q, %v", b, err)
			}
		})
	}
}

// TestPlantedMutableShareIsNotAPut: the bug this guards against made a put
// report success while storing nothing, because a planted mutable share
// was reported as an immutable share already held.
func TestPlantedMutableShareIsNotAPut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) backend.Backend) {
		ctx := context.Background()
		s := newStore(t, open, Options{})
		var si storage.StorageIndex
		if _, err := s.ReadTestWrite(ctx, si, storage.MutableSecrets{}, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
			3: {Write: []storage.WriteVector{{Offset: 0, Data: []byte("planted")}}},
		}}); err != nil {
			t.Fatal(err)
		}
		res, err := s.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{3}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.AlreadyHave) != 0 {
			t.Fatalf("planted mutable share reported as held: %+v", res)
		}
	})
}
