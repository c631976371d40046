package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lafs/lafs/internal/command/location"
	"github.com/lafs/lafs/internal/copier"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// BenchmarkPut uploads one file (LAFS_BENCH_MIB, default 64 MiB) per
// iteration, each a new file (new storage index), so every upload writes
// all ten shares.
func BenchmarkPut(b *testing.B) {
	size := fileSize()
	data := randomBytes(int(size), 1)
	for _, g := range grids(b) {
		b.Run("grid="+g.name, func(b *testing.B) {
			b.SetBytes(size)
			loop(b, func(i int) {
				res, err := g.store.Upload(context.Background(), stamped{data, uint64(i) + 1}, size, filestore.UploadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if p := res.Placement; !res.Created || p == nil || p.Uploaded != total {
					b.Fatalf("upload %d: created %v, placement %+v: it converged", i, res.Created, p)
				}
			})
		})
	}
}

// BenchmarkGet downloads one file (LAFS_BENCH_MIB, default 64 MiB), after
// checking once that it comes back byte for byte, through a store opened
// afresh.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	size := fileSize()
	data := randomBytes(int(size), 2)
	for _, g := range grids(b) {
		b.Run("grid="+g.name, func(b *testing.B) {
			res, err := g.store.Upload(ctx, bytes.NewReader(data), size, filestore.UploadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			if err := g.store.Download(ctx, res.Cap, h, filestore.DownloadOptions{}); err != nil {
				b.Fatal(err)
			}
			if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
				b.Fatal("the download differs from the upload")
			}
			// Downloads go through a second store, which has not seen the
			// file, and whose connections the timed loop makes.
			s := g.reopen(b)
			b.SetBytes(size)
			loop(b, func(int) {
				if err := s.Download(ctx, res.Cap, io.Discard, filestore.DownloadOptions{}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// smallFiles is how many 4 KiB files one cp -r copies.
const smallFiles = 200

// BenchmarkCpSmallFiles copies a local directory of 200 files of 4 KiB
// into a new grid directory per iteration (lafs cp -r, through
// internal/copier), with new contents each time so that nothing
// converges; files/s is the figure.
func BenchmarkCpSmallFiles(b *testing.B) {
	ctx := context.Background()
	for _, g := range grids(b) {
		b.Run("grid="+g.name, func(b *testing.B) {
			src := filepath.Join(b.TempDir(), "src")
			if err := os.Mkdir(src, 0o755); err != nil {
				b.Fatal(err)
			}
			root, err := g.store.Mkdir(ctx, filestore.MkdirOptions{})
			if err != nil {
				b.Fatal(err)
			}
			aliases := map[string]string{"bench": root.String()}
			k := &copier.Copier{Store: g.store, MissingDirIsCopy: true}
			file := randomBytes(4096, 3)
			var last string
			loop(b, func(i int) {
				b.StopTimer()
				for f := 0; f < smallFiles; f++ {
					binary.LittleEndian.PutUint64(file, uint64(i)<<32|uint64(f))
					if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%04d", f)), file, 0o644); err != nil {
						b.Fatal(err)
					}
				}
				last = "run-" + strconv.Itoa(i)
				dst, err := location.ParseGrid(aliases, "bench:"+last)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := k.Copy(ctx, []location.Location{location.LocalPath(src)}, dst, true); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(smallFiles*b.N)/b.Elapsed().Seconds(), "files/s")
			b.SetBytes(0)
			dir, err := g.store.Resolve(ctx, root, last)
			if err != nil {
				b.Fatal(err)
			}
			if es, err := g.store.ReadDir(ctx, dir); err != nil || len(es) != smallFiles {
				b.Fatalf("%s holds %d entries (%v), want %d", last, len(es), err, smallFiles)
			}
		})
	}
}

// BenchmarkLs reads a directory of 1,000 and of 10,000 children (CHK
// files of 4 KiB, as cp -r makes them): the work of `lafs ls`.
func BenchmarkLs(b *testing.B) {
	ctx := context.Background()
	for _, g := range grids(b) {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("grid=%s/entries=%d", g.name, n), func(b *testing.B) {
				es := make([]dirnode.Entry, n)
				for i := range es {
					key := randomBytes(16+32, uint64(i)+100)
					c, err := caps.NewCHK(key[:16], key[16:], needed, total, 4096)
					if err != nil {
						b.Fatal(err)
					}
					es[i] = client.EntryFor(fmt.Sprintf("file-%05d", i), c)
				}
				dir, err := g.store.Mkdir(ctx, filestore.MkdirOptions{Children: es})
				if err != nil {
					b.Fatal(err)
				}
				loop(b, func(int) {
					got, err := g.store.ReadDir(ctx, dir)
					if err != nil || len(got) != n {
						b.Fatalf("%d entries, %v; want %d", len(got), err, n)
					}
				})
			})
		}
	}
}

// BenchmarkMutableOverwrite publishes a new version of a mutable file per
// iteration (SDMF and MDMF), then checks that the last one reads back.
func BenchmarkMutableOverwrite(b *testing.B) {
	ctx := context.Background()
	for _, g := range grids(b) {
		for _, tc := range []struct {
			format filestore.Format
			size   int
		}{
			{filestore.FormatSDMF, 1 << 20},
			{filestore.FormatMDMF, 1 << 20},
			{filestore.FormatMDMF, 8 << 20},
		} {
			b.Run(fmt.Sprintf("grid=%s/%s-%dMiB", g.name, tc.format, tc.size>>20), func(b *testing.B) {
				data := randomBytes(tc.size, 4)
				c, err := g.store.CreateMutable(ctx, data, filestore.MutableOptions{Format: tc.format})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(tc.size))
				loop(b, func(i int) {
					binary.LittleEndian.PutUint64(data, uint64(i))
					if err := g.store.OverwriteMutable(ctx, c, data); err != nil {
						b.Fatal(err)
					}
				})
				var got bytes.Buffer
				if err := g.store.Download(ctx, c, &got, filestore.DownloadOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
					b.Fatalf("the last version does not read back (%v)", err)
				}
			})
		}
	}
}
