package client

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/lafs/lafs/pkg/nodedir"
)

// BenchmarkLocalGrid uploads and downloads 64 MiB on an embedded grid of 10
// servers (3-of-10): the library's share of `lafs put` and `lafs get`.
func BenchmarkLocalGrid(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	if err := CreateLocalGrid(dir, 10); err != nil {
		b.Fatal(err)
	}
	ss, err := OpenLocalGrid(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer CloseServers(ss)
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
