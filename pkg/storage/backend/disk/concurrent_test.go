package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// TestConcurrentCreateCommitAcrossOpeners: several openers of one
// directory (as separate processes are: separate descriptors and flocks)
// create and commit shares of storage indexes that share incoming and
// bucket prefix directories, all at once. Every Create and Commit
// succeeds: one writer's making a prefix or bucket directory never makes
// another's Create or Commit fail (tidying nested incoming directories
// once did, with "no such file or directory", which the uploader took for
// a broken server).
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
						si[0] = 0 // one two-letter prefix for all: its directory is shared
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

// TestCreateOverAbandonedIncoming: an incoming container whose writer is
// alive makes Create fail with ErrExist, from this opener or another; once
// the writer is gone without cleaning up (a killed process leaves the file
// unlocked), Create removes the leftover and succeeds, even while another
// opener holds the store.
func TestCreateOverAbandonedIncoming(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var si storage.StorageIndex
	si[3] = 7
	w, err := a.Create(ctx, si, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	for name, be := range map[string]*Backend{"same opener": a, "other opener": b} {
		if _, err := be.Create(ctx, si, 2, 100); !errors.Is(err, backend.ErrExist) {
			t.Fatalf("%s: Create over a live upload: %v, want ErrExist", name, err)
		}
	}
	// A dead writer: the file stays, its lock goes (the process's
	// descriptors close).
	inc := a.IncomingPath(si, 2)
	if _, err := w.WriteAt([]byte("partial"), 0); err != nil {
		t.Fatal(err)
	}
	w.(*writer).f.Close()
	if _, err := os.Stat(inc); err != nil {
		t.Fatal(err)
	}
	w2, err := b.Create(ctx, si, 2, 100)
	if err != nil {
		t.Fatalf("Create over an abandoned upload: %v", err)
	}
	if w2.Size() != 0 {
		t.Errorf("new container has %d bytes", w2.Size())
	}
	if _, err := w2.WriteAt([]byte("whole"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	r, err := a.Open(ctx, si, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, r.Size())
	r.ReadAt(got, 0)
	if string(got) != "whole" {
		t.Errorf("committed %q", got)
	}
}
