package e2e

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/internal/devgrid"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
)

// BenchmarkS3PutGet measures `tahoe put` and `tahoe get` of one file
// (LAFS_BENCH_MIB, default 256 MiB) over 5 storage nodes keeping their
// shares in S3 (versitygw on loopback) beside 5 disk-backed nodes, 3-of-5,
// in the same run, and counts the requests S3 served per upload and per
// download (from versitygw's access log). Each put uploads a new file.
// Run it with -benchtime=1x.
func BenchmarkS3PutGet(b *testing.B) {
	size := benchFileSize()
	dir := b.TempDir()
	gw := s3test.Start(b)
	s3g := newS3Grid(b, gw, 5, 3, 5, 5, false)
	start(b, s3g.dir)
	disk := filepath.Join(dir, "grid-disk")
	if err := devgrid.Create(disk, gridOptions(b, 5, 3, 5, 5)); err != nil {
		b.Fatal(err)
	}
	defer devgrid.Stop(disk, nil)
	start(b, disk)

	for _, g := range []struct {
		name, client, bucket string
	}{
		{"disk-5", devgrid.ClientDir(disk), ""},
		{"s3-5", devgrid.ClientDir(s3g.dir), s3g.bucket},
	} {
		var last string
		b.Run(g.name+"-put", func(b *testing.B) {
			b.SetBytes(size)
			var requests map[string]int
			for b.Loop() {
				b.StopTimer()
				src := filepath.Join(dir, fmt.Sprintf("src-%d.bin", time.Now().UnixNano()))
				writeRandomFile(b, src, size)
				before := s3Requests(b, gw, g.bucket)
				b.StartTimer()
				last = strings.TrimSpace(tahoe(b, "-q", "-d", g.client, "put", src))
				b.StopTimer()
				requests = diffRequests(before, s3Requests(b, gw, g.bucket))
				b.StartTimer()
			}
			reportRequests(b, g.bucket, requests)
		})
		b.Run(g.name+"-get", func(b *testing.B) {
			b.SetBytes(size)
			var requests map[string]int
			for b.Loop() {
				b.StopTimer()
				before := s3Requests(b, gw, g.bucket)
				b.StartTimer()
				tahoe(b, "-q", "-d", g.client, "get", last, filepath.Join(dir, "out.bin"))
				b.StopTimer()
				requests = diffRequests(before, s3Requests(b, gw, g.bucket))
				b.StartTimer()
			}
			reportRequests(b, g.bucket, requests)
		})
	}
}

// s3Requests counts the requests versitygw logged for bucket ("": none).
func s3Requests(b *testing.B, gw *s3test.Server, bucket string) map[string]int {
	if bucket == "" {
		return nil
	}
	time.Sleep(200 * time.Millisecond) // the access log is written as requests finish
	c, err := gw.RequestCounts(bucket)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func diffRequests(before, after map[string]int) map[string]int {
	if after == nil {
		return nil
	}
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func reportRequests(b *testing.B, bucket string, req map[string]int) {
	if bucket == "" {
		return
	}
	total := 0
	var parts []string
	for k, v := range req {
		total += v
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	b.ReportMetric(float64(total), "S3-requests/op")
	b.Logf("S3 requests (last iteration, 5 nodes): %d: %s", total, strings.Join(parts, " "))
}
