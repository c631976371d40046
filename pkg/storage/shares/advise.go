package shares

import (
	"context"
	"fmt"
	"strings"

	"github.com/lafs/lafs/pkg/storage"
)

// AdviseDir is the auxiliary-object folder of corruption advisories
// (Tahoe's storage/corruption-advisories/).
const AdviseDir = "corruption-advisories"

// AdviseCorruptShare implements storage.Server.
func (s *Store) AdviseCorruptShare(ctx context.Context, si storage.StorageIndex, shnum int, reason string) error {
	return s.adviseCorrupt(ctx, KindImmutable, si, shnum, reason)
}

// AdviseCorruptMutableShare implements storage.Server.
func (s *Store) AdviseCorruptMutableShare(ctx context.Context, si storage.StorageIndex, shnum int, reason string) error {
	return s.adviseCorrupt(ctx, KindMutable, si, shnum, reason)
}

// adviseCorrupt records a report in Tahoe's format, one auxiliary object
// per report, unless that would eat into the reserved space.
func (s *Store) adviseCorrupt(ctx context.Context, kind ContainerKind, si storage.StorageIndex, shnum int, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.isKind(ctx, si, shnum, kind) {
		return fmt.Errorf("no %s share %s/%d: %w", kind, si, shnum, storage.ErrNotFound)
	}
	now := s.opts.Now().UTC()
	name := fmt.Sprintf("%s--%s-%d", strings.ReplaceAll(now.Format("2006-01-02T15:04:05.000000Z"), ":", ""), si, shnum)
	report := fmt.Sprintf("report: Share Corruption\ntype: %s\nstorage_index: %s\nshare_number: %d\n\n%s\n\n", kind, si, shnum, reason)
	if int64(len(report)) > s.availableSpace(ctx) {
		return nil
	}
	if err := s.b.PutAux(ctx, AdviseDir+"/"+name, []byte(report)); err != nil {
		return fmt.Errorf("corruption advisory: %w", err)
	}
	return nil
}
