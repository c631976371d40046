package gbswire

import (
	"testing"

	"github.com/lafs/lafs/pkg/storage"
)

func BenchmarkParseContentRange(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, _, _, ok := ParseContentRange("bytes 131072-262143/*"); !ok {
			b.Fatal("parse")
		}
	}
}

func BenchmarkDecodeReadTestWrite(b *testing.B) {
	nl := uint64(4096)
	enc, err := MarshalCBOR(storage.ReadTestWriteRequest{
		TestWriteVectors: map[uint64]storage.TestWriteVectors{0: {Test: []storage.TestVector{{Offset: 0, Size: 41, Specimen: make([]byte, 41)}}, Write: []storage.WriteVector{{Offset: 0, Data: make([]byte, 4096)}}, NewLength: &nl}},
		ReadVector:       []storage.ReadVector{{Offset: 0, Size: 41}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for i := 0; i < b.N; i++ {
		var req storage.ReadTestWriteRequest
		if err := UnmarshalCBOR(enc, &req); err != nil {
			b.Fatal(err)
		}
	}
}
