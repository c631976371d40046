package shares_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/leasedb"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// smallShareSize is the share of a 4 KiB file at 3-of-10: its data, block
// and share hash trees and URI extension (about what `lafs cp -r` of small
// files puts on each server).
const smallShareSize = 3 << 10

// BenchmarkSmallShare is the server's whole cost of one small immutable
// share as a storage node has it (disk backend, SQLite lease database):
// allocate, one write of all of it, commit (fsyncs, link, lease record).
// "concurrent" runs 8 uploaders per CPU at once, as clients uploading
// several files do.
func BenchmarkSmallShare(b *testing.B) {
	for _, par := range []int{1, 8} {
		name := map[int]string{1: "serial", 8: "concurrent"}[par]
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			bk, err := disk.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			db, err := leasedb.Open(ctx, filepath.Join(dir, "leasedb.sqlite"), bk, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			s := shares.New(bk, shares.Options{Leases: db})
			defer func() {
				b.StopTimer()
				s.Close()
				db.Close()
				bk.Close()
			}()
			data := bytes.Repeat([]byte{7}, smallShareSize)
			secret := []byte("upload secret, 32 bytes long....")
			var next atomic.Uint64
			one := func() error {
				var si storage.StorageIndex
				binary.BigEndian.PutUint64(si[:], next.Add(1)*0x9e3779b97f4a7c15)
				lease := secrets(byte(si[0]))
				ar, err := s.AllocateBuckets(ctx, si, lease, secret, []int{3}, smallShareSize)
				if err != nil || len(ar.Allocated) != 1 {
					return fmt.Errorf("allocate: %+v %v", ar, err)
				}
				res, err := s.WriteShareChunkFrom(ctx, si, 3, secret, 0, bytes.NewReader(data), smallShareSize)
				if err != nil || !res.Complete {
					return fmt.Errorf("write: %+v %v", res, err)
				}
				return nil
			}
			b.ReportAllocs()
			b.SetParallelism(par)
			b.ResetTimer()
			user0, sys0 := cpuTime()
			if par == 1 {
				for i := 0; i < b.N; i++ {
					if err := one(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := one(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			user, sys := cpuTime()
			b.ReportMetric(float64((user-user0).Microseconds())/float64(b.N), "user-us/op")
			b.ReportMetric(float64((sys-sys0).Microseconds())/float64(b.N), "sys-us/op")
		})
	}
}

// cpuTime is the CPU time the process has used, in user space and in
// the kernel.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
