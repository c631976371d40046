package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// placeShare writes share sh of b to target t over whatever is there (a
// newer version's share beside an older version's).
func placeShare(t *testing.T, target Target, b *Built, sh int) {
	t.Helper()
	var si storage.StorageIndex
	copy(si[:], b.Cap.StorageIndex)
	var we [32]byte
	copy(we[:], caps.WriteEnabler(b.Cap.WriteKey, target.LeaseSeed))
	res, err := target.Storage.ReadTestWrite(context.Background(), si, storage.MutableSecrets{WriteEnabler: we, Lease: target.Lease},
		storage.ReadTestWriteRequest{TestWriteVectors: map[uint64]storage.TestWriteVectors{
			uint64(sh): {Write: []storage.WriteVector{{Offset: 0, Data: b.Shares[sh]}}},
		}})
	if err != nil || !res.Success {
		t.Fatalf("placing share %d: %v %v", sh, res, err)
	}
}

// TestReadAsksFew: a read asks the first 2k servers (permuted order is the
// order given) and no others when they settle the newest version, as
// Tahoe's MODE_READ; it asks more when some fail, hang past the grace, hold
// no shares, show a newer version they cannot recover, or hold shares
// that fail their checks.
func TestReadAsksFew(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	v1 := sha256ctr("v1", 60_000)
	v2 := sha256ctr("v2", 60_000)
	b1, err := Build(key, v1, Params{Needed: 3, Total: 10, Format: VersionMDMF, MaxSegmentSize: 8192, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Build(key, v2, Params{Needed: 3, Total: 10, Format: VersionMDMF, MaxSegmentSize: 8192, Seqnum: 2})
	if err != nil {
		t.Fatal(err)
	}
	b4, err := Build(key, v1, Params{Needed: 3, Total: 4, Format: VersionMDMF, MaxSegmentSize: 8192, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		setup     func(t *testing.T, targets []Target, ws []*watchedServer)
		wantAsked int // servers whose shares were listed
		maxWait   time.Duration
		needed    int // Options.Needed: the client's k
	}{
		{name: "healthy: the first 2k only", wantAsked: 6},
		{name: "healthy, a client of k=4: 2×4 first", wantAsked: 8, needed: 4},
		{name: "healthy, a client of k=1: still 2×3, the shares' k", wantAsked: 6, needed: 1},
		{name: "two of the first down: two more asked at once", wantAsked: 8,
			setup: func(t *testing.T, _ []Target, ws []*watchedServer) { ws[1].fail, ws[4].fail = true, true }},
		{name: "one of the first hung: one more after the grace", wantAsked: 7, maxWait: 2 * time.Second,
			setup: func(t *testing.T, _ []Target, ws []*watchedServer) { ws[2].hang = true }},
		{name: "shares only beyond the first 2k", wantAsked: 10,
			setup: func(t *testing.T, targets []Target, _ []*watchedServer) {
				if err := Create(context.Background(), b4, targets[6:], Options{}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "one share of a newer version: everyone asked", wantAsked: 10,
			setup: func(t *testing.T, targets []Target, _ []*watchedServer) { placeShare(t, targets[3], b2, 3) }},
		{name: "four of the first six corrupt: a second look at everyone", wantAsked: 6 + 10,
			setup: func(t *testing.T, _ []Target, ws []*watchedServer) {
				for _, w := range ws[:4] {
					w.corrupt = func(int) bool { return true }
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			targets, plain, ws := watchedTargets(t, 10)
			if tc.name != "shares only beyond the first 2k" {
				if err := Create(context.Background(), b1, targets, Options{}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.setup != nil {
				tc.setup(t, targets, ws)
			}
			for _, w := range ws {
				w.lists.Store(0)
			}
			maxWait := tc.maxWait
			if maxWait == 0 {
				maxWait = 4 * time.Second // well under the 10s timeout
			}
			var out bytes.Buffer
			start := time.Now()
			err := RetrieveWith(context.Background(), b1.Cap, plain, &out, Options{Timeout: 10 * time.Second, Grace: 100 * time.Millisecond, Needed: tc.needed})
			if d := time.Since(start); d > maxWait {
				t.Errorf("took %v, want under %v", d, maxWait)
			}
			if err != nil || !bytes.Equal(out.Bytes(), v1) {
				t.Fatalf("read: %v (%d bytes)", err, out.Len())
			}
			asked := 0
			var who []string
			for i, w := range ws {
				if n := w.lists.Load(); n > 0 {
					asked += int(n)
					who = append(who, fmt.Sprint(i))
				}
			}
			if asked != tc.wantAsked {
				t.Errorf("%d share lists asked (servers %v), want %d", asked, who, tc.wantAsked)
			}
		})
	}
}

// streamer is a server that streams share ranges, as a GBS client does.
type streamer struct {
	storage.Server
	streamed atomic.Int32
}

func (s *streamer) ReadShareTo(ctx context.Context, w io.Writer, mutable bool, si storage.StorageIndex, sh int, off, n uint64) (int64, error) {
	s.streamed.Add(1)
	b, err := s.Server.ReadMutableShareChunk(ctx, si, sh, off, n)
	if err != nil {
		return 0, err
	}
	k, err := w.Write(b)
	return int64(k), err
}

// TestReadStreamsTheRest: from a server that streams, the rest of each
// share is streamed (into a buffer of the share's size) and decodes.
func TestReadStreamsTheRest(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, format := range []int{VersionSDMF, VersionMDMF} {
		targets, plain := localTargets(t, 5)
		data := sha256ctr("stream", 200_000)
		b, err := Build(key, data, Params{Needed: 3, Total: 5, Format: format, Seqnum: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := Create(context.Background(), b, targets, Options{}); err != nil {
			t.Fatal(err)
		}
		var ss []*streamer
		var servers []storage.Server
		for _, p := range plain {
			s := &streamer{Server: p}
			ss = append(ss, s)
			servers = append(servers, s)
		}
		var out bytes.Buffer
		if err := Retrieve(context.Background(), b.Cap, servers, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("format %d: %v (%d bytes)", format, err, out.Len())
		}
		n := 0
		for _, s := range ss {
			n += int(s.streamed.Load())
		}
		if n != 3 {
			t.Errorf("format %d: %d shares streamed, want 3", format, n)
		}
	}
}

// warmServer is a watched server that says whether it is connected.
type warmServer struct {
	*watchedServer
	warm bool
}

func (w warmServer) Warm() bool { return w.warm }

// TestReadPrefersWarmServers: of the first Total servers, connected ones
// are asked first; a connected server past them is not preferred.
func TestReadPrefersWarmServers(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	data := sha256ctr("warm", 30_000)
	b, err := Build(key, data, Params{Needed: 3, Total: 10, Format: VersionSDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		total int
		warm  []int
		want  []int // servers asked
	}{
		{name: "none warm: the first six", total: 10, want: []int{0, 1, 2, 3, 4, 5}},
		{name: "six warm late in the first ten", total: 10, warm: []int{4, 5, 6, 7, 8, 9}, want: []int{4, 5, 6, 7, 8, 9}},
		{name: "two warm: they and the first four", total: 10, warm: []int{7, 9}, want: []int{0, 1, 2, 3, 7, 9}},
		{name: "warm past Total are not preferred", total: 6, warm: []int{6, 7, 8, 9}, want: []int{0, 1, 2, 3, 4, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			targets, _, ws := watchedTargets(t, 10)
			if err := Create(context.Background(), b, targets, Options{}); err != nil {
				t.Fatal(err)
			}
			servers := make([]storage.Server, len(ws))
			for i, w := range ws {
				servers[i] = warmServer{watchedServer: w, warm: slices.Contains(tc.warm, i)}
			}
			var out bytes.Buffer
			if err := RetrieveWith(context.Background(), b.Cap, servers, &out, Options{Total: tc.total}); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("read: %v", err)
			}
			var asked []int
			for i, w := range ws {
				if w.lists.Load() > 0 {
					asked = append(asked, i)
				}
			}
			if !slices.Equal(asked, tc.want) {
				t.Errorf("asked %v, want %v", asked, tc.want)
			}
		})
	}
}
