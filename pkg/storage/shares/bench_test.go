package storage

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
)

// BenchmarkLocalWriteShare writes a 64 MiB share through Local in 128 KiB
// chunks: the disk side of a GBS upload, without HTTP or TLS.
func BenchmarkLocalWriteShare(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.Read(data)
	store, err := OpenDiskStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{})
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var si StorageIndex
		binary.BigEndian.PutUint64(si[:], uint64(i))
		if _, err := l.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, uint64(len(data))); err != nil {
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
	store, err := OpenDiskStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{})
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		var si StorageIndex
		binary.BigEndian.PutUint64(si[:], uint64(i))
		if _, err := l.AllocateBuckets(ctx, si, LeaseSecrets{}, []byte("u"), []int{0}, 1024); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTestWrite is a 10 KiB mutable write with a passing test
// vector, the shape of an SDMF publish.
func BenchmarkReadTestWrite(b *testing.B) {
	store, err := OpenDiskStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	l := NewLocal(store, LocalOptions{})
	ctx := context.Background()
	data := make([]byte, 10<<10)
	var si StorageIndex
	sec := MutableSecrets{WriteEnabler: [32]byte{1}}
	if _, err := l.ReadTestWrite(ctx, si, sec, ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {Write: []WriteVector{{0, data}}}}}); err != nil {
		b.Fatal(err)
	}
	req := ReadTestWriteRequest{TestWriteVectors: map[uint64]TestWriteVectors{0: {
		Test:  []TestVector{{0, 32, data[:32]}},
		Write: []WriteVector{{0, data}},
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
		blake2b256(secret)
	}
}

func BenchmarkParseContentRange(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, _, _, ok := ParseContentRange("bytes 131072-262143/*"); !ok {
			b.Fatal("parse")
		}
	}
}

func BenchmarkDecodeReadTestWrite(b *testing.B) {
	nl := uint64(4096)
	enc, err := MarshalCBOR(ReadTestWriteRequest{
		TestWriteVectors: map[uint64]TestWriteVectors{0: {Test: []TestVector{{0, 41, make([]byte, 41)}}, Write: []WriteVector{{0, make([]byte, 4096)}}, NewLength: &nl}},
		ReadVector:       []ReadVector{{0, 41}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for i := 0; i < b.N; i++ {
		var req ReadTestWriteRequest
		if err := UnmarshalCBOR(enc, &req); err != nil {
			b.Fatal(err)
		}
	}
}
