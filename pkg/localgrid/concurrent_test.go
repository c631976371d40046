package localgrid

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/nodedir"
)

// TestConcurrentOpenersAllSucceed: several clients, each opening the grid
// on its own (as separate `lafs put` processes do: separate file
// descriptors, separate locks), upload different files at once, small and
// large, and every upload succeeds and reads back; no server is ever taken
// for broken or read-only because another writer holds its directories.
func TestConcurrentOpenersAllSucceed(t *testing.T) {
	shapes := []struct {
		name    string
		writers int
		size    int
		same    bool // every writer uploads the same bytes (one storage index)
	}{
		{"different files, 8 writers", 8, 100 << 10, false},
		{"different small files, 16 writers", 16, 1000, false},
		{"different large files, 3 writers", 3, 2 << 20, false},
		// The same file from several writers at once:
		// TestConcurrentUploadsOfOneFile.
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			if err := Create(dir, 5); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, sh.writers)
			datas := make([][]byte, sh.writers)
			results := make([]*client.UploadResult, sh.writers)
			clients := make([]*client.Client, sh.writers)
			for w := 0; w < sh.writers; w++ {
				seed := byte(w)
				if sh.same {
					seed = 0
				}
				datas[w] = bytes.Repeat([]byte{seed, 1, 2, 3, 4, 5, 6}, sh.size/7+1)[:sh.size]
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					ss, err := Open(dir)
					if err != nil {
						errs[w] = err
						return
					}
					c := &client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 4, Total: 5, MaxSegmentSize: 128 << 10}, Convergence: []byte("c"), LeaseSecret: []byte(fmt.Sprint("l", w))}
					clients[w] = c
					results[w], errs[w] = c.Upload(ctx, bytes.NewReader(datas[w]), uint64(len(datas[w])), nil)
				}(w)
			}
			wg.Wait()
			for w, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
			}
			if t.Failed() {
				return
			}
			for w, c := range clients {
				var out bytes.Buffer
				if err := c.Download(ctx, results[w].Cap, &out, nil); err != nil {
					t.Fatalf("writer %d read back: %v", w, err)
				}
				if !bytes.Equal(out.Bytes(), datas[w]) {
					t.Fatalf("writer %d read back other bytes", w)
				}
				client.CloseServers(c.Servers)
			}
		})
	}
}
