package shares

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/lafs/lafs/pkg/storage"
)

// BenchmarkLocalWriteShare writes a 64 MiB share through Local in 128 KiB
// chunks: the disk side of a GBS upload, without HTTP or TLS.
func BenchmarkLocalWriteShare(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.Read(data)
	l, err := OpenDisk(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Closing (which removes unfinished uploads) is not timed.
	defer func() { b.StopTimer(); l.Close() }()
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var si storage.StorageIndex
		binary.BigEndian.PutUint64(si[:], uint64(i))
		if _, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, uint64(len(data))); err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += 128 << 10 {
			if _, err := l.WriteShareChunk(ctx, si, 0, []byte("u"), uint64(off), data[off:off+128<<10]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLocalAllocate is one small allocation without HTTP.
func BenchmarkLocalAllocate(b *testing.B) {
	l, err := OpenDisk(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Closing (which removes unfinished uploads) is not timed.
	defer func() { b.StopTimer(); l.Close() }()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		var si storage.StorageIndex
		binary.BigEndian.PutUint64(si[:], uint64(i))
		if _, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, 1024); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTestWrite is a 10 KiB mutable write with a passing test
// vector, the shape of an SDMF publish.
func BenchmarkReadTestWrite(b *testing.B) {
	l, err := OpenDisk(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Closing (which removes unfinished uploads) is not timed.
	defer func() { b.StopTimer(); l.Close() }()
	ctx := context.Background()
	data := make([]byte, 10<<10)
	var si storage.StorageIndex
	sec := storage.MutableSecrets{WriteEnabler: [32]byte{1}}
	if _, err := l.ReadTestWrite(ctx, si, sec, storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Write: []storage.WriteVector{{Offset: 0, Data: data}}}}}); err != nil {
		b.Fatal(err)
	}
	req := storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {
		Test:  []storage.TestVector{{Offset: 0, Size: 32, Specimen: data[:32]}},
		Write: []storage.WriteVector{{Offset: 0, Data: data}},
	}}}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := l.ReadTestWrite(ctx, si, sec, req)
		if err != nil || !res.Success {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkBlake2b256(b *testing.B) {
	secret := make([]byte, 32)
	b.SetBytes(32)
	for i := 0; i < b.N; i++ {
		blake2b.Sum256(secret)
	}
}

// BenchmarkLocalReadShare reads a 64 MiB share in 43 KiB blocks, the shape
// of a 3-of-10 download's block reads at 128 KiB segments.
func BenchmarkLocalReadShare(b *testing.B) {
	const block = 43691
	data := make([]byte, 64<<20)
	rand.Read(data)
	l, err := OpenDisk(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Closing (which removes unfinished uploads) is not timed.
	defer func() { b.StopTimer(); l.Close() }()
	ctx := context.Background()
	var si storage.StorageIndex
	if _, err := l.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, []byte("u"), []int{0}, uint64(len(data))); err != nil {
		b.Fatal(err)
	}
	if _, err := l.WriteShareChunk(ctx, si, 0, []byte("u"), 0, data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(data); off += block {
			if _, err := l.ReadShareChunk(ctx, si, 0, uint64(off), block); err != nil {
				b.Fatal(err)
			}
		}
	}
}
