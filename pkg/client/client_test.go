package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
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

// failingServer wraps a real server and fails every write after the first
// few, as a server that dies mid-upload.
type failingServer struct {
	storage.Server
	writes atomic.Int32
	after  int32
}

func (f *failingServer) WriteShareChunk(ctx context.Context, si storage.StorageIndex, sh int, secret []byte, off uint64, data []byte) (storage.WriteResult, error) {
	if f.writes.Add(1) > f.after {
		return storage.WriteResult{}, errors.New("connection reset by peer")
	}
	return f.Server.WriteShareChunk(ctx, si, sh, secret, off, data)
}

func TestServerDyingMidUploadIsSurvived(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 10, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 16 << 10})
	c.ChunkSize = 4 << 10
	for i := 0; i < 2; i++ {
		c.Servers[i].Storage = &failingServer{Server: c.Servers[i].Storage, after: 2}
	}
	data := testData(300_000)
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Happiness < 7 {
		t.Fatalf("happiness %d", res.Happiness)
	}
	for sh, id := range res.Placement {
		if id == c.Servers[0].ID || id == c.Servers[1].ID {
			t.Fatalf("share %d left on the server that failed", sh)
		}
	}
	var out bytes.Buffer
	if err := c.Download(ctx, res.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("download: %v", err)
	}
}

func TestDownloadSurvivesLostAndCorruptShares(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 10, nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 16 << 10})
	data := testData(100_000)
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Seven servers vanish: three are enough.
	kept := c.Servers
	c.Servers = c.Servers[:3]
	var out bytes.Buffer
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
