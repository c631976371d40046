package shares

import (
	"context"

	"bytes"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"os"
	"path/filepath"
	"testing"
)

// FuzzShareContainer feeds arbitrary bytes to the container readers as a
// share container: they must fail cleanly, never panic or read out of
// bounds.
func FuzzShareContainer(f *testing.F) {
	for _, name := range []string{"chk/s1/5", "sdmf/s1/1", "mdmf/s1/2", "dir/s1/4"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, "files", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(append(bytes.Clone(mutableMagicV2), make([]byte, 500)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		info, err := Inspect(r)
		if err != nil {
			return
		}
		if info.DataLength < 0 || info.DataLength > int64(len(data)) {
			t.Fatalf("%v share claims %d data bytes in a %d-byte container", info.Kind, info.DataLength, len(data))
		}
		if info.Kind == KindMutable {
			if c, err := parseMutable(r); err == nil {
				c.ReadData(0, info.DataLength)
			}
		}
	})
}

// FuzzReadTestWrite applies arbitrary read-test-write vectors to a store
// holding a mutable share (one with extra leases, so growth moves them):
// every request either fails cleanly or leaves a container that parses,
// whose data reads back as the vectors wrote it.
func FuzzReadTestWrite(f *testing.F) {
	f.Add(uint64(0), []byte("hello"), uint64(0), uint64(3), false)
	f.Add(uint64(1000), []byte("far"), uint64(10), uint64(0), true)
	f.Add(uint64(5), []byte{}, uint64(0), uint64(2000), true)
	f.Fuzz(func(t *testing.T, off uint64, data []byte, readOff, newLen uint64, truncate bool) {
		ctx := context.Background()
		s := New(mem.New(mem.Options{Capacity: 64 << 20}), Options{MaxMutableShareSize: 1 << 20})
		defer s.Close()
		var si storage.StorageIndex
		rtw := func(tw storage.TestWriteVectors, rv ...storage.ReadVector) (storage.ReadTestWriteResult, error) {
			return s.ReadTestWrite(ctx, si, storage.MutableSecrets{}, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: tw}, ReadVector: rv})
		}
		if _, err := rtw(storage.TestWriteVectors{Write: []storage.WriteVector{{Offset: 0, Data: []byte("0123456789")}}}); err != nil {
			t.Fatal(err)
		}
		for i := byte(0); i < 6; i++ { // fill the four header slots and two extra ones
			if err := s.AddOrRenewLease(ctx, si, storage.LeaseSecrets{Renew: [32]byte{i + 1}}); err != nil {
				t.Fatal(err)
			}
		}
		tw := storage.TestWriteVectors{Write: []storage.WriteVector{{Offset: off, Data: data}}}
		if truncate {
			tw.NewLength = &newLen
		}
		before, _ := s.ReadMutableShareChunk(ctx, si, 0, 0, 1<<21)
		if _, err := rtw(tw); err != nil {
			return
		}
		after, err := s.ReadMutableShareChunk(ctx, si, 0, 0, 1<<21)
		if truncate && newLen == 0 {
			if err == nil {
				t.Fatal("share survived new-length 0")
			}
			return
		}
		if err != nil {
			t.Fatalf("share unreadable after a successful write: %v", err)
		}
		want := append([]byte(nil), before...)
		if end := int(off) + len(data); end > len(want) {
			want = append(want, make([]byte, end-len(want))...)
		}
		copy(want[off:], data)
		if truncate && int(newLen) < len(want) {
			want = want[:newLen]
		}
		if !bytes.Equal(after, want) {
			t.Fatalf("data after writing %d bytes at %d: %d bytes, want %d", len(data), off, len(after), len(want))
		}
		if _, err := rtw(storage.TestWriteVectors{}, storage.ReadVector{Offset: readOff, Size: 100}); err != nil {
			t.Fatalf("read vector after a successful write: %v", err)
		}
		// The container still parses, with its leases.
		r, err := s.Backend().Open(ctx, si, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		info, err := Inspect(r)
		if err != nil || len(info.Leases) != 7 {
			t.Fatalf("container after the write: %d leases, %v", len(info.Leases), err)
		}
	})
}
