package checkcli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/deep"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/lafs"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestFigures measures deep-check of a 1,000-file tree and check of one
// large file (with and without verify) beside its download, on the grid
// whose client node directory LAFS_FIGURES_GRID names (for example
// `lafs grid up --servers 10 --needed 3 --happy 7 --total 10 DIR`, then
// DIR/client). LAFS_FIGURES_MB sets the large file's size (default 64).
func TestFigures(t *testing.T) {
	dir := os.Getenv("LAFS_FIGURES_GRID")
	if dir == "" {
		t.Skip("LAFS_FIGURES_GRID is not set")
	}
	mb := 64
	if v := os.Getenv("LAFS_FIGURES_MB"); v != "" {
		mb, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	node, err := nodedir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, mode, err := lafs.Open(node, lafs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ck := st.(deep.Checker)
	t.Logf("grid: %s", mode)

	// A 1,000-file tree: 10 directories of 100 files of 1-4 KiB.
	start := time.Now()
	var subdirs []dirnode.Entry
	for d := 0; d < 10; d++ {
		files := make([]dirnode.Entry, 100)
		var wg sync.WaitGroup
		errs := make([]error, 100)
		sem := make(chan struct{}, 8)
		for i := range files {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				h := sha256.Sum256([]byte(fmt.Sprint(d, i, time.Now().UnixNano())))
				data := bytes.Repeat(h[:], 32+i)
				r, err := st.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
				if err != nil {
					errs[i] = err
					return
				}
				files[i] = client.EntryFor(fmt.Sprintf("f%03d", i), r.Cap)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		sub, err := st.Mkdir(ctx, filestore.MkdirOptions{Children: files})
		if err != nil {
			t.Fatal(err)
		}
		subdirs = append(subdirs, client.EntryFor(fmt.Sprintf("d%d", d), sub))
	}
	root, err := st.Mkdir(ctx, filestore.MkdirOptions{Children: subdirs})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built a 1,000-file tree (11 directories) in %v", time.Since(start).Round(time.Millisecond))
	for _, verify := range []bool{false, true} {
		start := time.Now()
		rep, err := deep.Check(ctx, st, ck, root, deep.CheckOptions{CheckOptions: health.CheckOptions{Verify: verify}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("deep-check verify=%v: %d objects, %d healthy, in %v", verify, rep.Checked, rep.Healthy, time.Since(start).Round(time.Millisecond))
	}
	start = time.Now()
	if _, _, err := deep.Manifest(ctx, st, root, deep.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("manifest: %v", time.Since(start).Round(time.Millisecond))

	// One large file.
	f, err := os.CreateTemp(t.TempDir(), "big")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(fmt.Sprint("big", time.Now().UnixNano())))
	block := make([]byte, 1<<20)
	for i := 0; i < mb; i++ {
		for j := 0; j < len(block); j += 32 {
			h = sha256.Sum256(h[:])
			copy(block[j:], h[:])
		}
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	size := int64(mb) << 20
	start = time.Now()
	res, err := st.Upload(ctx, f, size, filestore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d MiB: upload %v", mb, time.Since(start).Round(time.Millisecond))
	measure := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := time.Since(start)
		t.Logf("%d MiB: %-15s %8v  %6.1f MiB/s", mb, name, d.Round(time.Millisecond), float64(mb)/d.Seconds())
	}
	check := func(verify bool) func() error {
		return func() error {
			r, err := ck.Check(ctx, res.Cap, health.CheckOptions{Verify: verify})
			if err == nil && !r.Healthy {
				err = fmt.Errorf("unhealthy: %s", r.Summary)
			}
			return err
		}
	}
	measure("download", func() error { return st.Download(ctx, res.Cap, io.Discard, filestore.DownloadOptions{}) })
	measure("check", check(false))
	measure("check --verify", check(true))
	measure("download again", func() error { return st.Download(ctx, res.Cap, io.Discard, filestore.DownloadOptions{}) })
}
