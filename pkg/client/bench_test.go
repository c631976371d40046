package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"strconv"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/nodedir"
)

// BenchmarkLocalGrid uploads and downloads 64 MiB on an embedded grid of 10
// servers (3-of-10): the library's share of `lafs put` and `lafs get`.
func BenchmarkLocalGrid(b *testing.B) {
	const size = 64 << 20
	ss := testServers(b, 10)
	c := &Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 1 << 20}, Convergence: []byte("bench"), LeaseSecret: []byte("l")}
	data := testData(size)
	res, err := c.Upload(context.Background(), bytes.NewReader(data), size, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("get", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if err := c.Download(context.Background(), res.Cap, io.Discard, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpload uploads 64 MiB to an embedded grid of 10 servers
// (3-of-10, 1 MiB segments): the library's share of `lafs put`. Each
// iteration uses a fresh convergence secret, so every upload writes all ten
// shares instead of finding them on the grid.
func BenchmarkUpload(b *testing.B) {
	const size = 64 << 20
	c := localClient(b, 10, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 1 << 20})
	data := testData(size)
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		c.Convergence = []byte("bench put " + strconv.Itoa(i))
		i++
		res, err := c.Upload(context.Background(), bytes.NewReader(data), size, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.Uploaded != 10 {
			b.Fatalf("uploaded %d shares, kept %d: the upload converged", res.Uploaded, res.Kept)
		}
	}
}

// BenchmarkDirectories: reading a 10,000-entry directory, publishing a
// 1 MiB mutable file, and uploading small files into a tree (files/s), on
// an embedded grid of 10 servers.
func BenchmarkDirectories(b *testing.B) {
	ctx := context.Background()
	ss := testServers(b, 10)
	c := &Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 1 << 20}, Convergence: []byte("bench"), LeaseSecret: []byte("l")}
	b.Run("ls-10000-entries", func(b *testing.B) {
		var es []dirnode.Entry
		for i := 0; i < 10000; i++ {
			es = append(es, EntryFor("file-"+strconv.Itoa(i), caps.NewLIT([]byte(strconv.Itoa(i)))))
		}
		d, err := c.MkdirWith(ctx, es, false)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			got, err := c.ReadDir(ctx, d)
			if err != nil || len(got) != 10000 {
				b.Fatalf("%d entries, %v", len(got), err)
			}
		}
	})
	b.Run("mutable-publish-1MiB", func(b *testing.B) {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		data := testData(1 << 20)
		cp, err := c.CreateMutable(ctx, data, mutable.VersionSDMF, key)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(1 << 20)
		for b.Loop() {
			if err := c.OverwriteMutable(ctx, cp, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("small-file-uploads", func(b *testing.B) {
		i := 0
		for b.Loop() {
			data := testData(200)
			data[0], data[1] = byte(i), byte(i>>8)
			i++
			if _, err := c.Upload(ctx, bytes.NewReader(data), 200, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
}
