package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

func testData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func localClient(t testing.TB, servers int, enc nodedir.Encoding) *Client {
	t.Helper()
	ss := testServers(t, servers)
	return &Client{Servers: ss, Encoding: enc, Convergence: []byte("convergence"), LeaseSecret: []byte("lease secret")}
}

func TestUploadDownloadLocalGrid(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 10, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 64 << 10})
	for _, size := range []int{0, 10, 55, 56, 1000, 200_000} {
		data := testData(size)
		var seen int64
		res, err := c.Upload(ctx, bytes.NewReader(data), uint64(size), func(n int64) { seen = n })
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		want, err := chk.ComputeCap(ctx, bytes.NewReader(data), uint64(size), c.params())
		if err != nil || want.String() != res.Cap.String() {
			t.Fatalf("size %d: cap %s, chk-cap says %s", size, res.Cap, want)
		}
		if seen != int64(size) {
			t.Errorf("size %d: progress reported %d bytes", size, seen)
		}
		if size > chk.LITMax && (res.Happiness != 10 || res.Uploaded != 10) {
			t.Errorf("size %d: happiness %d, uploaded %d", size, res.Happiness, res.Uploaded)
		}
		var out bytes.Buffer
		if err := c.Download(ctx, res.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("size %d: download: %v", size, err)
		}
		// Uploading again keeps every share and renews its lease.
		if size > chk.LITMax {
			again, err := c.Upload(ctx, bytes.NewReader(data), uint64(size), nil)
			if err != nil || again.Kept != 10 || again.Uploaded != 0 || again.Cap.String() != res.Cap.String() {
				t.Fatalf("re-upload: %+v %v", again, err)
			}
		}
	}
}

func TestUnhappyUploadPrintsNoCap(t *testing.T) {
	c := localClient(t, 6, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 64 << 10})
	res, err := c.Upload(context.Background(), bytes.NewReader(testData(5000)), 5000, nil)
	var ue *UnhappinessError
	if !errors.As(err, &ue) || res != nil {
		t.Fatalf("got %v, %v", res, err)
	}
	if ue.Happiness != 6 || ue.Happy != 7 || !strings.Contains(err.Error(), "only 6 server(s)") {
		t.Fatalf("error: %v", err)
	}
}

// failingServer wraps a real server and fails every write once it has
// taken failAfter bytes, as a server that dies mid-upload (failAfter 0:
// it fails allocations too). It counts the
// bytes it was asked to write per share.
type failingServer struct {
	storage.Server
	failAfter int64 // < 0: never fail
	mu        sync.Mutex
	written   int64
	perShare  map[int]int64
}

func (f *failingServer) AllocateBuckets(ctx context.Context, si storage.StorageIndex, lease storage.LeaseSecrets, secret []byte, shares []int, size uint64) (storage.AllocateResult, error) {
	if f.failAfter == 0 {
		return storage.AllocateResult{}, errors.New("connection reset by peer")
	}
	return f.Server.AllocateBuckets(ctx, si, lease, secret, shares, size)
}

func (f *failingServer) WriteShareChunk(ctx context.Context, si storage.StorageIndex, sh int, secret []byte, off uint64, data []byte) (storage.WriteResult, error) {
	f.mu.Lock()
	if f.failAfter >= 0 && f.written >= f.failAfter {
		f.mu.Unlock()
		return storage.WriteResult{}, errors.New("connection reset by peer")
	}
	f.written += int64(len(data))
	if f.perShare == nil {
		f.perShare = map[int]int64{}
	}
	f.perShare[sh] += int64(len(data))
	f.mu.Unlock()
	return f.Server.WriteShareChunk(ctx, si, sh, secret, off, data)
}

// countingReader counts the bytes read from a file being uploaded: the
// key pass reads it once, and each encoding pass once more.
type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(b, off)
	c.n.Add(int64(n))
	return n, err
}

// wrapServers puts a failingServer around every server of c, the first
// `failing` of them in the permuted order of data's storage index failing
// after failAfter bytes.
func wrapServers(t *testing.T, c *Client, data []byte, failing int, failAfter int64) (map[string]*failingServer, []string) {
	t.Helper()
	key, err := chk.Key(context.Background(), bytes.NewReader(data), uint64(len(data)), c.params())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*failingServer{}
	for i := range c.Servers {
		f := &failingServer{Server: c.Servers[i].Storage, failAfter: -1}
		c.Servers[i].Storage = f
		byID[c.Servers[i].ID] = f
	}
	var failed []string
	for _, s := range Permuted(c.Servers, caps.StorageIndexCHK(key))[:failing] {
		byID[s.ID].failAfter = failAfter
		failed = append(failed, s.ID)
	}
	return byID, failed
}

func TestServerDyingMidUpload(t *testing.T) {
	ctx := context.Background()
	const size = 300_000
	cases := []struct {
		name             string
		servers, failing int
		failAfter        int64
		enc              nodedir.Encoding
		wantPasses       int // encoding passes: reads of the file beyond the key pass
		wantShares       int
		wantUnhappy      bool
	}{
		{name: "survivors happy: encoded once", servers: 10, failing: 2, failAfter: 8 << 10,
			enc: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 16 << 10}, wantPasses: 1, wantShares: 8},
		{name: "survivors unhappy, spare servers: only the missing shares placed again", servers: 12, failing: 2, failAfter: 8 << 10,
			enc: nodedir.Encoding{Needed: 3, Happy: 10, Total: 10, MaxSegmentSize: 16 << 10}, wantPasses: 2, wantShares: 10},
		{name: "allocation fails: planned again before encoding", servers: 12, failing: 2, failAfter: 0,
			enc: nodedir.Encoding{Needed: 3, Happy: 10, Total: 10, MaxSegmentSize: 16 << 10}, wantPasses: 1, wantShares: 10},
		{name: "happiness lost: no cap", servers: 10, failing: 4, failAfter: 8 << 10,
			enc: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 16 << 10}, wantUnhappy: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := localClient(t, tc.servers, tc.enc)
			c.ChunkSize = 4 << 10
			data := testData(size)
			wrapped, failed := wrapServers(t, c, data, tc.failing, tc.failAfter)
			src := &countingReader{r: bytes.NewReader(data)}
			res, err := c.Upload(ctx, src, size, nil)
			if tc.wantUnhappy {
				var ue *UnhappinessError
				if !errors.As(err, &ue) || res != nil {
					t.Fatalf("got %+v, %v; want an UnhappinessError and no result", res, err)
				}
				if !strings.Contains(err.Error(), "connection reset by peer") {
					t.Errorf("error does not say what failed: %v", err)
				}
				if passes := float64(src.n.Load()-size) / size; passes >= 1 {
					t.Errorf("%.2f encoding passes: the encode was not stopped when happiness was lost", passes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := src.n.Load(); got != int64(size*(1+tc.wantPasses)) {
				t.Errorf("file read %d bytes = key pass + %.2f encoding passes, want %d", got, float64(got-size)/size, tc.wantPasses)
			}
			want, _ := chk.ComputeCap(ctx, bytes.NewReader(data), size, c.params())
			if res.Cap.String() != want.String() {
				t.Fatalf("cap %s, want %s", res.Cap, want)
			}
			if len(res.Placement) != tc.wantShares || res.Happiness < tc.enc.Happy || res.Uploaded != tc.wantShares {
				t.Fatalf("placement %v, happiness %d, uploaded %d", res.Placement, res.Happiness, res.Uploaded)
			}
			_, _, alloc, _ := chk.Plan(size, c.params())
			for sh, id := range res.Placement {
				if slices.Contains(failed, id) {
					t.Fatalf("share %d left on a server that failed", sh)
				}
				// Every placed share was written once, never again.
				if got := wrapped[id].perShare[sh]; got != int64(alloc) {
					t.Errorf("share %d: %d bytes written to its server, share is %d", sh, got, alloc)
				}
			}
			var out bytes.Buffer
			if err := c.Download(ctx, res.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("download: %v", err)
			}
		})
	}
}

// corruptServer wraps a real server: one share of it reads back with a
// byte flipped at offset flipAt (its copy of that share is corrupt), and
// the corruption advisories it receives are recorded.
type corruptServer struct {
	storage.Server
	shnum  int
	flipAt uint64
	mu     sync.Mutex
	advice []int
}

func (s *corruptServer) ReadShareChunk(ctx context.Context, si storage.StorageIndex, sh int, off, n uint64) ([]byte, error) {
	b, err := s.Server.ReadShareChunk(ctx, si, sh, off, n)
	if sh == s.shnum && err == nil && off <= s.flipAt && s.flipAt < off+uint64(len(b)) {
		b = bytes.Clone(b)
		b[s.flipAt-off] ^= 0x55
	}
	return b, err
}

func (s *corruptServer) AdviseCorruptShare(ctx context.Context, si storage.StorageIndex, sh int, reason string) error {
	s.mu.Lock()
	s.advice = append(s.advice, sh)
	s.mu.Unlock()
	return s.Server.AdviseCorruptShare(ctx, si, sh, reason)
}

func TestDownloadSurvivesLostAndCorruptShares(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 10, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 16 << 10})
	data := testData(100_000)
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Share 0, which the decoder tries first, is corrupt where its server
	// holds it: a byte of its first block is flipped.
	_, hdr, _, err := chk.Plan(uint64(len(data)), c.params())
	if err != nil {
		t.Fatal(err)
	}
	var bad *corruptServer
	var badID string
	for i, s := range c.Servers {
		if s.ID == res.Placement[0] {
			bad = &corruptServer{Server: s.Storage, shnum: 0, flipAt: hdr.Data + 100}
			c.Servers[i].Storage, badID = bad, s.ID
		}
	}
	var rejected []string
	var out bytes.Buffer
	err = c.Download(ctx, res.Cap, &out, func(sh int, server string, err error) {
		rejected = append(rejected, fmt.Sprintf("%d@%s", sh, server))
	})
	if err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download with a corrupt share: %v", err)
	}
	if want := []string{"0@" + badID}; !slices.Equal(rejected, want) {
		t.Fatalf("rejected %v, want %v", rejected, want)
	}
	if !slices.Equal(bad.advice, []int{0}) {
		t.Fatalf("corruption advised for shares %v, want [0] on the server holding it", bad.advice)
	}
	for i := range c.Servers {
		if c.Servers[i].ID == badID {
			c.Servers[i].Storage = bad.Server
		}
	}

	// Seven servers vanish: three are enough.
	kept := c.Servers
	c.Servers = c.Servers[:3]
	out.Reset()
	if err := c.Download(ctx, res.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download from 3 servers: %v", err)
	}
	c.Servers = kept[:2]
	err = c.Download(ctx, res.Cap, &bytes.Buffer{}, nil)
	var ne *chk.NotEnoughSharesError
	if !errors.As(err, &ne) || ne.Needed != 3 || ne.Found != 2 {
		t.Fatalf("download from 2 servers: %v", err)
	}
	// A cap of a file that is not on the grid.
	c.Servers = kept
	other, _ := chk.ComputeCap(ctx, bytes.NewReader(testData(999)), 999, c.params())
	err = c.Download(ctx, other, &bytes.Buffer{}, nil)
	if !errors.As(err, &ne) || ne.Found != 0 || !strings.Contains(err.Error(), "no server of 10 holds a share") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestMutableOnLocalGrid(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 5, nodedir.Encoding{Needed: 3, Happy: 4, Total: 5, MaxSegmentSize: 1 << 20})
	for _, format := range []int{mutable.VersionSDMF, mutable.VersionMDMF} {
		data := testData(3000)
		cp, err := c.CreateMutable(ctx, data, format, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range []*caps.Cap{cp, cp.ReadOnly()} {
			var out bytes.Buffer
			if err := c.Download(ctx, rc, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("%s: %v", rc.Kind, err)
			}
		}
	}
}
