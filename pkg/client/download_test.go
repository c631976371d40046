package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

// streamingServer is a real share store reached the way the GBS client
// reaches one, by streaming share ranges into a writer (ReadShareTo); it
// counts the range requests and can fail every read of one share.
type streamingServer struct {
	storage.Server
	mu       sync.Mutex
	requests int
	fail     map[int]bool // shares whose reads fail past failFrom
	failFrom uint64
}

func (s *streamingServer) ReadShareTo(ctx context.Context, w io.Writer, mutable bool, si storage.StorageIndex, shnum int, offset, length uint64) (int64, error) {
	s.mu.Lock()
	s.requests++
	fail := s.fail[shnum] && offset+length > s.failFrom
	s.mu.Unlock()
	if fail {
		return 0, fmt.Errorf("share %d at %d: %w", shnum, offset, io.ErrUnexpectedEOF)
	}
	b, err := s.Server.ReadShareChunk(ctx, si, shnum, offset, length)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// TestDownloadReadsAhead: over a streaming (network) server a download
// asks for runs of blocks, not one block per request, gets the file back
// whole, and survives a share whose later runs fail (another share takes
// its place).
func TestDownloadReadsAhead(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 5, nodedir.Encoding{Needed: 3, Happy: 5, Total: 5, MaxSegmentSize: 8 << 10})
	data := testData(1 << 20) // 128 segments
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ss []*streamingServer
	for i := range c.Servers {
		s := &streamingServer{Server: c.Servers[i].Storage}
		c.Servers[i].Storage = s
		ss = append(ss, s)
	}
	count := func() int {
		n := 0
		for _, s := range ss {
			s.mu.Lock()
			n += s.requests
			s.requests = 0
			s.mu.Unlock()
		}
		return n
	}
	var out bytes.Buffer
	if err := c.Download(ctx, res.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v (%d bytes)", err, out.Len())
	}
	// 128 segments × 3 blocks would be 384 requests one block each; in
	// runs of maxAheadBlocks (small blocks) it is about 3 × 128/8 plus the
	// headers and trees.
	if n := count(); n > 3*128/maxAheadBlocks+40 {
		t.Errorf("%d range requests for 128 segments of 3 blocks", n)
	}
	// Shares 0 and 1 fail past their first tenth: shares 3 and 4 take
	// their places.
	for _, s := range ss {
		s.fail, s.failFrom = map[int]bool{0: true, 1: true}, 35<<10
	}
	out.Reset()
	var bad []int
	if err := c.Download(ctx, res.Cap, &out, func(sh int, _ string, _ error) { bad = append(bad, sh) }); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download with failing shares: %v (%d bytes), rejected %v", err, out.Len(), bad)
	}
	slices.Sort(bad)
	if !slices.Equal(bad, []int{0, 1}) {
		t.Errorf("rejected %v, want [0 1]", bad)
	}
}
