package mutable

import (
	"context"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// maxShareRead bounds how much of one mutable share Retrieve reads.
const maxShareRead = 1 << 30

// Retrieve finds the shares of a mutable file on the given servers, picks
// the newest version with k good shares and writes its plaintext to w.
// Directory caps read their underlying file. onBad, when set, hears about
// each share that fails a check or a read.
func Retrieve(ctx context.Context, c *caps.Cap, servers []storage.Server, w io.Writer, onBad func(shnum int, err error)) error {
	switch c.Kind {
	case caps.KindSSK, caps.KindSSKRO, caps.KindMDMF, caps.KindMDMFRO,
		caps.KindDIR2, caps.KindDIR2RO, caps.KindDIR2MDMF, caps.KindDIR2MDMFRO:
	default:
		return fmt.Errorf("a %s cap is not a readable mutable file", c.Kind)
	}
	var si storage.StorageIndex
	copy(si[:], c.StorageIndex)
	var shares []*Share
	for _, srv := range servers {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("retrieving mutable file: %w", err)
		}
		nums, err := srv.ListMutableShares(ctx, si)
		if err != nil {
			continue // an unreachable server holds nothing we can use
		}
		for _, n := range nums {
			b, err := srv.ReadMutableShareChunk(ctx, si, n, 0, maxShareRead)
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("retrieving mutable file: %w", ctxErr)
			}
			if err != nil {
				err = fmt.Errorf("reading share %d: %w", n, err)
			} else {
				var s *Share
				if s, err = ParseShare(n, b); err == nil {
					shares = append(shares, s)
					continue
				}
				err = fmt.Errorf("share %d: %w", n, err)
			}
			if onBad != nil {
				onBad(n, err)
			}
		}
	}
	if len(shares) == 0 {
		return &NotEnoughSharesError{Found: 0, Needed: 1}
	}
	return Decode(c, shares, w, onBad)
}
