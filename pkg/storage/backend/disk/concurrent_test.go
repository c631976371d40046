package disk

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/storage"
)

// TestConcurrentCreateCommitAcrossOpeners: several openers of one
// directory (as separate processes are: separate descriptors and flocks)
// create and commit shares of storage indexes that share incoming and
// bucket prefix directories, all at once. Every Create and Commit
// succeeds: one writer tidying an emptied incoming directory never makes
// another's Create fail (it used to, with "no such file or directory",
// which the uploader took for a broken server).
func TestConcurrentCreateCommitAcrossOpeners(t *testing.T) {
	for _, shape := range []struct {
		openers, perOpener, shares int
	}{{4, 40, 1}, {8, 20, 3}, {2, 100, 2}} {
		t.Run(fmt.Sprintf("%d openers x %d indexes x %d shares", shape.openers, shape.perOpener, shape.shares), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			var wg sync.WaitGroup
			errs := make(chan error, shape.openers*shape.perOpener*shape.shares)
			for o := 0; o < shape.openers; o++ {
				b, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				wg.Add(1)
				go func(o int, b *Backend) {
					defer wg.Done()
					for i := 0; i < shape.perOpener; i++ {
						var si storage.StorageIndex
						si[0] = 0 // one two-letter prefix for all: the tidied directory is shared
						si[1] = byte(o)
						si[2] = byte(i)
						for sh := 0; sh < shape.shares; sh++ {
							w, err := b.Create(ctx, si, sh, 10)
							if err != nil {
								errs <- fmt.Errorf("opener %d create %d/%d: %w", o, i, sh, err)
								continue
							}
							if _, err := w.WriteAt([]byte("share data"), 0); err != nil {
								errs <- err
							}
							if err := w.Commit(ctx); err != nil {
								errs <- fmt.Errorf("opener %d commit %d/%d: %w", o, i, sh, err)
							}
							w.Close()
						}
					}
				}(o, b)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
