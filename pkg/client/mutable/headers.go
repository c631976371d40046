package mutable

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/lafs/lafs/pkg/storage"
)

// ReadHeaders reads of share num on srv what Verify checks (the signed
// header, verification key, signature, share hash chain and block hash
// tree) and not its blocks, as Tahoe's checker does without verify: one
// read when the share is small or the first read reaches the share data,
// else one more for SDMF and up to two more for MDMF (whose block hash
// tree follows the data). A share smaller than the first read is parsed
// whole. Verify works on the result; VerifyBlocks does not.
func ReadHeaders(ctx context.Context, srv storage.Server, si storage.StorageIndex, num int) (*Share, error) {
	b, err := srv.ReadMutableShareChunk(ctx, si, num, 0, prefixRead)
	if err != nil {
		return nil, fmt.Errorf("reading share %d: %w", num, err)
	}
	if len(b) < prefixRead {
		s, err := ParseShare(num, b)
		if err != nil {
			return nil, wrapShare(num, err)
		}
		return s, nil
	}
	// The offsets table says where the share data starts and, for MDMF,
	// where the block hash tree lies.
	var dataOff, bhtOff, eof uint64
	switch b[0] {
	case VersionSDMF:
		p := sdmfSignedLen
		dataOff = uint64(binary.BigEndian.Uint32(b[p+12:]))
	case VersionMDMF:
		p := mdmfSignedLen
		dataOff = binary.BigEndian.Uint64(b[p+40:])
		bhtOff = binary.BigEndian.Uint64(b[p+48:])
		eof = binary.BigEndian.Uint64(b[p+56:])
	default:
		return nil, corrupt("share %d: unknown mutable share version %d", num, b[0])
	}
	// No header is anywhere near this big: a larger offset is corrupt,
	// and is not read.
	const maxHeaders = 1 << 20
	if dataOff > maxHeaders {
		return nil, corrupt("share %d: share data at %d, past any header", num, dataOff)
	}
	if dataOff > uint64(len(b)) {
		rest, err := srv.ReadMutableShareChunk(ctx, si, num, uint64(len(b)), dataOff-uint64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("reading share %d: %w", num, err)
		}
		b = append(b, rest...)
	}
	s := &Share{Num: num, Version: int(b[0])}
	if s.Version == VersionSDMF {
		if err := s.parseSDMFFrom(b, true); err != nil {
			return nil, wrapShare(num, err)
		}
		return s, nil
	}
	if bhtOff > eof || eof-bhtOff > maxHeaders {
		return nil, corrupt("share %d: block hash tree [%d, %d)", num, bhtOff, eof)
	}
	bht, err := srv.ReadMutableShareChunk(ctx, si, num, bhtOff, eof-bhtOff)
	if err != nil {
		return nil, fmt.Errorf("reading share %d: %w", num, err)
	}
	if bht == nil {
		bht = []byte{}
	}
	if err := s.parseMDMFFrom(b, bht); err != nil {
		return nil, wrapShare(num, err)
	}
	return s, nil
}

func wrapShare(num int, err error) error {
	if err != nil {
		return fmt.Errorf("share %d: %w", num, err)
	}
	return nil
}
