package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
)

// watchedServer wraps a real server: it counts whole-share reads (longer
// than the servermap's first read), can corrupt one share as it reads it
// back (one byte of share data, at the same place in every read, as a bad
// disk would), can hang (every call blocks until its context ends), can be
// slow to answer and slow to write.
type watchedServer struct {
	storage.Server
	wholeReads atomic.Int32
	bytesRead  atomic.Int64
	corrupt    func(shnum int) bool
	corruptAt  uint64 // where (corruptAt when 0)
	hang       bool
	fail       bool // ListMutableShares fails
	lists      atomic.Int32
	listDelay  time.Duration
	writeDelay time.Duration
	mu         sync.Mutex
	advised    []int // shares advised corrupt
}

func (w *watchedServer) AdviseCorruptMutableShare(ctx context.Context, si storage.StorageIndex, sh int, reason string) error {
	w.mu.Lock()
	w.advised = append(w.advised, sh)
	w.mu.Unlock()
	return w.Server.AdviseCorruptMutableShare(ctx, si, sh, reason)
}

func (w *watchedServer) ListMutableShares(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	w.lists.Add(1)
	if w.fail {
		return nil, errors.New("server down")
	}
	if w.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if w.listDelay > 0 {
		time.Sleep(w.listDelay)
	}
	return w.Server.ListMutableShares(ctx, si)
}

func (w *watchedServer) ReadMutableShareChunk(ctx context.Context, si storage.StorageIndex, sh int, off, n uint64) ([]byte, error) {
	if n > prefixRead {
		w.wholeReads.Add(1)
	}
	b, err := w.Server.ReadMutableShareChunk(ctx, si, sh, off, n)
	w.bytesRead.Add(int64(len(b)))
	at := uint64(corruptAt)
	if w.corruptAt > 0 {
		at = w.corruptAt
	}
	if err == nil && w.corrupt != nil && w.corrupt(sh) && off <= at && at < off+uint64(len(b)) {
		b = bytes.Clone(b)
		b[at-off] ^= 1
	}
	return b, err
}

func (w *watchedServer) ReadTestWrite(ctx context.Context, si storage.StorageIndex, s storage.MutableSecrets, req storage.ReadTestWriteRequest) (storage.ReadTestWriteResult, error) {
	if w.hang {
		<-ctx.Done()
		return storage.ReadTestWriteResult{}, ctx.Err()
	}
	if w.writeDelay > 0 {
		select {
		case <-time.After(w.writeDelay):
		case <-ctx.Done():
			return storage.ReadTestWriteResult{}, ctx.Err()
		}
	}
	return w.Server.ReadTestWrite(ctx, si, s, req)
}

// watchedTargets makes n local servers, each wrapped in a watchedServer.
func watchedTargets(t *testing.T, n int) ([]Target, []storage.Server, []*watchedServer) {
	targets, _ := localTargets(t, n)
	var plain []storage.Server
	var ws []*watchedServer
	for i := range targets {
		w := &watchedServer{Server: targets[i].Storage}
		targets[i].Storage = w
		plain = append(plain, w)
		ws = append(ws, w)
	}
	return targets, plain, ws
}

// corruptAt is the share offset a corrupting watchedServer flips: in the
// share data of both formats for shares of more than a few KiB, past the
// servermap's first read.
const corruptAt = prefixRead + 1000

func totalWholeReads(ws []*watchedServer) int {
	n := 0
	for _, w := range ws {
		n += int(w.wholeReads.Load())
	}
	return n
}

// TestRetrieveReadsK: of ten shares, a read takes k whole (small shares
// are whole after the servermap's first read and need no second one). A
// share that fails its checks is read once more (to tell corruption from a
// torn read), advised corrupt, and replaced by one more share. Corrupt
// servers answer first here, so that they are the ones read.
func TestRetrieveReadsK(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, format := range []int{VersionSDMF, VersionMDMF} {
		for _, tc := range []struct {
			name      string
			size      int
			corrupt   int // servers whose share reads back corrupt
			wantWhole int
		}{
			{"large file", 60_000, 0, 3},
			{"large file, one share corrupt: one more read and a second look", 60_000, 1, 3 + 2},
			{"large file, three shares corrupt", 60_000, 3, 3 + 3*2},
			{"small file: one read each", 1000, 0, 0},
		} {
			targets, plain, ws := watchedTargets(t, 10)
			data := sha256ctr("kplus", tc.size)
			b, err := Build(key, data, Params{Needed: 3, Total: 10, Format: format, MaxSegmentSize: 8192, Seqnum: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := Create(context.Background(), b, targets, Options{}); err != nil {
				t.Fatal(err)
			}
			for i := range ws {
				if i < tc.corrupt {
					ws[i].corrupt = func(int) bool { return true }
				} else if tc.corrupt > 0 {
					ws[i].listDelay = 50 * time.Millisecond
				}
			}
			var out bytes.Buffer
			var rejected []int
			var mu sync.Mutex
			err = RetrieveWith(context.Background(), b.Cap, plain, &out, Options{Grace: time.Second, OnBad: func(n int, err error) {
				mu.Lock()
				rejected = append(rejected, n)
				mu.Unlock()
				if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTorn) {
					t.Errorf("share %d: %v, want only ErrCorrupt", n, err)
				}
			}})
			if err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("format %d, %s: %v", format, tc.name, err)
			}
			if got := totalWholeReads(ws); got != tc.wantWhole {
				t.Errorf("format %d, %s: %d whole-share reads, want %d", format, tc.name, got, tc.wantWhole)
			}
			slices.Sort(rejected)
			if want := seq(tc.corrupt); !slices.Equal(rejected, want) {
				t.Errorf("format %d, %s: rejected %v, want %v", format, tc.name, rejected, want)
			}
			// Each corrupt share was advised to the server holding it
			// (share i is on server i).
			for i, w := range ws {
				want := []int(nil)
				if i < tc.corrupt {
					want = []int{i}
				}
				if !slices.Equal(w.advised, want) {
					t.Errorf("format %d, %s: server %d advised of %v, want %v", format, tc.name, i, w.advised, want)
				}
			}
		}
	}
}

func seq(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		out = append(out, i)
	}
	return out
}

// TestAllSharesCorrupt: when every share found fails its checks, the error
// says they were found and rejected, and why, rather than counting them as
// found.
func TestAllSharesCorrupt(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain, ws := watchedTargets(t, 5)
	b, err := Build(key, sha256ctr("bad", 20_000), Params{Needed: 3, Total: 5, Format: VersionSDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), b, targets, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		w.corrupt = func(int) bool { return true }
		w.corruptAt = 300 // the verification key
	}
	var out bytes.Buffer
	err = Retrieve(context.Background(), b.Cap, plain, &out, nil)
	var ne *NotEnoughSharesError
	if !errors.As(err, &ne) || ne.Found != 0 || len(ne.Bad) != 5 || out.Len() != 0 {
		t.Fatalf("%v (%d bytes written)", err, out.Len())
	}
	msg := err.Error()
	for _, want := range []string{"5 share(s) found and all rejected as corrupt", "need 3", "on 5 server(s), 5 of them answering", "share 0:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "found 5") {
		t.Errorf("error counts rejected shares as found: %q", msg)
	}
}

// TestHungServerDoesNotStallMutableIO: one server that never answers costs
// a read no more than the grace, and a write (which hears every server
// out) one query timeout.
func TestHungServerDoesNotStallMutableIO(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain, ws := watchedTargets(t, 5)
	b, err := Build(key, sha256ctr("hung", 5000), Params{Needed: 2, Total: 4, Format: VersionMDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), b, targets[:4], Options{}); err != nil {
		t.Fatal(err)
	}
	ws[4].hang = true
	o := Options{Timeout: 2 * time.Second, Grace: 50 * time.Millisecond}
	start := time.Now()
	var out bytes.Buffer
	if err := RetrieveWith(context.Background(), b.Cap, plain, &out, o); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("read took %v with a hung server: it waited for the 2s timeout, not the 50ms grace", d)
	}
	start = time.Now()
	if err := Overwrite(context.Background(), b.Cap, []byte("new"), targets, o); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("overwrite took %v with a hung server; the timeout is 2s", d)
	}
	out.Reset()
	if err := RetrieveWith(context.Background(), b.Cap, plain, &out, o); err != nil || out.String() != "new" {
		t.Fatalf("after overwrite: %q %v", out.String(), err)
	}
}

// TestCreateWritesInParallel: five servers that each take 300ms to write
// take about 300ms together, not 1.5s.
func TestCreateWritesInParallel(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, _, ws := watchedTargets(t, 5)
	for _, w := range ws {
		w.writeDelay = 300 * time.Millisecond
	}
	b, err := Build(key, []byte("parallel"), Params{Needed: 3, Total: 5, Format: VersionSDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Create(context.Background(), b, targets, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Create took %v: writes are not parallel", d)
	}
}

// FuzzParseLocated: the servermap's reading of a share's first bytes
// never panics, and agrees with ParseShare on every share ParseShare
// accepts.
func FuzzParseLocated(f *testing.F) {
	for _, name := range []string{"sdmf", "mdmf"} {
		v := loadVector(f, name)
		for n, b := range rawShares(f, v) {
			f.Add(n, b)
			f.Add(n, b[:min(len(b), prefixRead)])
		}
	}
	f.Fuzz(func(t *testing.T, num int, b []byte) {
		if num < 0 || num > 255 {
			return
		}
		l, err := parseLocated(0, num, b, true)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not marked corrupt: %v", err)
		}
		s, perr := ParseShare(num, b)
		if perr != nil {
			return
		}
		if err != nil {
			t.Fatalf("ParseShare accepts what parseLocated rejects: %v", err)
		}
		if l.signed != string(s.Signed) || l.seqnum != s.Seqnum || l.needed != s.Needed || string(l.root) != string(s.RootHash) {
			t.Fatalf("parseLocated %+v disagrees with ParseShare", l)
		}
	})
}
