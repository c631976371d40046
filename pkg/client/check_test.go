package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

// writeCounter wraps a storage server and counts the chunks written to
// each share number, and the mutable share bytes read.
type writeCounter struct {
	storage.Server
	mu          sync.Mutex
	writes      map[int]int
	mutableRead int
}

func (w *writeCounter) ReadMutableShareChunk(ctx context.Context, si storage.StorageIndex, sh int, off, n uint64) ([]byte, error) {
	b, err := w.Server.ReadMutableShareChunk(ctx, si, sh, off, n)
	w.mu.Lock()
	w.mutableRead += len(b)
	w.mu.Unlock()
	return b, err
}

func (w *writeCounter) WriteShareChunk(ctx context.Context, si storage.StorageIndex, sh int, secret []byte, off uint64, data []byte) (storage.WriteResult, error) {
	w.mu.Lock()
	w.writes[sh]++
	w.mu.Unlock()
	return w.Server.WriteShareChunk(ctx, si, sh, secret, off, data)
}

func (w *writeCounter) Close() error {
	if c, ok := w.Server.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// grid is an embedded grid of 10 servers with a 3-of-10, happy-7 client.
type grid struct {
	dir      string
	c        *client.Client
	counters []*writeCounter
}

func newGrid(t *testing.T) *grid {
	t.Helper()
	dir := t.TempDir()
	if err := localgrid.Create(dir, 10); err != nil {
		t.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &grid{dir: dir}
	for i := range ss {
		wc := &writeCounter{Server: ss[i].Storage, writes: map[int]int{}}
		ss[i].Storage = wc
		g.counters = append(g.counters, wc)
	}
	g.c = &client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 128 << 10},
		Convergence: []byte("check test"), LeaseSecret: []byte("check lease secret")}
	t.Cleanup(g.c.Close)
	return g
}

func (g *grid) resetWrites() {
	for _, w := range g.counters {
		w.mu.Lock()
		w.writes = map[int]int{}
		w.mu.Unlock()
	}
}

// written returns the share numbers written since the last reset.
func (g *grid) written() []int {
	var out []int
	for _, w := range g.counters {
		w.mu.Lock()
		for sh := range w.writes {
			out = append(out, sh)
		}
		w.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

// shareFiles returns share number → path of every share file of si.
func (g *grid) shareFiles(t *testing.T, si []byte) map[int][]string {
	t.Helper()
	s := caps.Base32Encode(si)
	paths, err := filepath.Glob(filepath.Join(g.dir, localgrid.Dir, "*", "shares", s[:2], s, "*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int][]string{}
	for _, p := range paths {
		sh, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			t.Fatalf("odd share file %s", p)
		}
		out[sh] = append(out[sh], p)
	}
	return out
}

type fileState struct {
	mtime time.Time
	sum   [32]byte
}

func stateOf(t *testing.T, paths map[int][]string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for _, ps := range paths {
		for _, p := range ps {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = fileState{st.ModTime(), sha256.Sum256(b)}
		}
	}
	return out
}

func (g *grid) upload(t *testing.T, size int) *caps.Cap {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*31 + i/1021)
	}
	res, err := g.c.Upload(context.Background(), bytes.NewReader(data), uint64(size), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Happiness != 10 {
		t.Fatalf("upload happiness %d", res.Happiness)
	}
	return res.Cap
}

func TestCheckHealthyAndLiteral(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 300_000)
	for _, verify := range []bool{false, true} {
		for _, c := range []*caps.Cap{cp, cp.Verifier()} {
			r, err := g.c.Check(ctx, c, client.CheckOptions{Verify: verify})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Healthy || !r.Recoverable || r.Summary != "Healthy" || r.SharesGood != 10 || r.Happiness != 10 ||
				r.GoodShareHosts != 10 || len(r.ServersResponding) != 10 || len(r.Sharemap) != 10 || r.SharesNeeded != 3 ||
				r.SharesExpected != 10 || r.RecoverableVersions != 1 || r.UnrecoverableVersions != 0 || len(r.CorruptShares) != 0 {
				t.Errorf("verify=%v %s: %+v", verify, c.Kind, r)
			}
		}
	}
	lit, _ := caps.Parse("URI:LIT:nbswy3dp")
	r, err := g.c.Check(ctx, lit, client.CheckOptions{Verify: true})
	if err != nil || !r.IsLiteral() || !r.Healthy {
		t.Errorf("LIT: %+v %v", r, err)
	}
}

// TestCheckAndRepairMissingShares deletes 4 share files: the check says
// unhealthy with the exact counts; the repair puts back exactly those 4
// shares and leaves the other 6 untouched.
func TestCheckAndRepairMissingShares(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 1_000_000)
	files := g.shareFiles(t, cp.StorageIndex)
	if len(files) != 10 {
		t.Fatalf("%d share files", len(files))
	}
	gone := []int{1, 4, 5, 8}
	for _, sh := range gone {
		if err := os.Remove(files[sh][0]); err != nil {
			t.Fatal(err)
		}
	}
	before := stateOf(t, g.shareFiles(t, cp.StorageIndex))

	r, err := g.c.Check(ctx, cp, client.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Healthy || !r.Recoverable || r.SharesGood != 6 || r.Happiness != 6 || r.GoodShareHosts != 6 ||
		len(r.ServersResponding) != 10 || r.Summary != "Not Healthy: 6 shares (enc 3-of-10)" {
		t.Fatalf("check after deleting 4: %+v", r)
	}
	for _, sh := range gone {
		if _, ok := r.Sharemap[strconv.Itoa(sh)]; ok {
			t.Errorf("sharemap has deleted share %d", sh)
		}
	}

	g.resetWrites()
	crr, err := g.c.CheckAndRepair(ctx, cp, client.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !crr.RepairAttempted || !crr.RepairSuccessful || crr.Pre.Healthy || crr.Pre.SharesGood != 6 {
		t.Fatalf("repair: %+v (error %q)", crr, crr.RepairError)
	}
	if p := crr.Post; !p.Healthy || p.SharesGood != 10 || p.Happiness != 10 || p.GoodShareHosts != 10 || p.Summary != "healthy" {
		t.Errorf("post-repair: %+v", p)
	}
	if w := g.written(); !slices.Equal(w, gone) {
		t.Errorf("repair wrote shares %v, want exactly %v", w, gone)
	}
	after := g.shareFiles(t, cp.StorageIndex)
	if len(after) != 10 {
		t.Fatalf("%d share files after repair", len(after))
	}
	for p, st := range before {
		st2 := stateOf(t, map[int][]string{0: {p}})[p]
		if st2 != st {
			t.Errorf("untouched share %s was rewritten", p)
		}
	}
	r, err = g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil || !r.Healthy || r.Happiness != 10 || r.SharesGood != 10 {
		t.Fatalf("verify after repair: %+v %v", r, err)
	}
	var out bytes.Buffer
	if err := g.c.Download(ctx, cp, &out, nil); err != nil || out.Len() != 1_000_000 {
		t.Fatalf("download after repair: %v", err)
	}
	// A healthy file is not repaired again.
	g.resetWrites()
	crr, err = g.c.CheckAndRepair(ctx, cp, client.CheckOptions{})
	if err != nil || crr.RepairAttempted || len(g.written()) != 0 {
		t.Errorf("second repair: %+v %v, wrote %v", crr, err, g.written())
	}
}

// holder returns the server holding share sh of si (one share per server).
func (g *grid) holder(t *testing.T, si []byte, sh int) client.Server {
	t.Helper()
	var ssi storage.StorageIndex
	copy(ssi[:], si)
	for _, s := range g.c.Servers {
		have, err := s.Storage.ListShares(context.Background(), ssi)
		if err != nil {
			t.Fatal(err)
		}
		mut, err := s.Storage.ListMutableShares(context.Background(), ssi)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(have, sh) || slices.Contains(mut, sh) {
			return s
		}
	}
	t.Fatalf("no server holds share %d", sh)
	return client.Server{}
}

// TestVerifyNamesTheCorruptShareAndRepairReplacesIt flips one byte of one
// share's block data: a plain check sees nothing, a verify names exactly
// that share on exactly its server and advises the server; the repair
// places a good copy elsewhere and a verify is happy again.
func TestVerifyNamesTheCorruptShareAndRepairReplacesIt(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 700_000)
	files := g.shareFiles(t, cp.StorageIndex)
	const bad = 6
	b, err := os.ReadFile(files[bad][0])
	if err != nil {
		t.Fatal(err)
	}
	b[12+0x24+5000] ^= 0x01 // container header, share header, then block data
	if err := os.WriteFile(files[bad][0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	badServer := g.holder(t, cp.StorageIndex, bad)

	r, err := g.c.Check(ctx, cp, client.CheckOptions{})
	if err != nil || !r.Healthy {
		t.Fatalf("plain check: %+v %v", r, err)
	}
	r, err = g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []health.ShareLocator{{Server: badServer.ID, StorageIndex: cp.StorageIndex, Share: bad}}
	if r.Healthy || r.SharesGood != 9 || r.Happiness != 9 || fmt.Sprint(r.CorruptShares) != fmt.Sprint(want) ||
		r.Summary != "Not Healthy: 9 shares (enc 3-of-10)" {
		t.Fatalf("verify: %+v", r)
	}
	advisories, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(files[bad][0])))), "corruption-advisories", "*"))
	if len(advisories) != 1 {
		t.Errorf("corruption advisories on the bad share's server: %v", advisories)
	}

	g.resetWrites()
	crr, err := g.c.CheckAndRepair(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !crr.RepairAttempted || !crr.RepairSuccessful || len(crr.Pre.CorruptShares) != 1 {
		t.Fatalf("repair: %+v (%s)", crr, crr.RepairError)
	}
	if w := g.written(); !slices.Equal(w, []int{bad}) {
		t.Errorf("repair wrote %v, want [%d]", w, bad)
	}
	if ids := crr.Post.Sharemap[strconv.Itoa(bad)]; len(ids) != 1 || ids[0] == badServer.ID {
		t.Errorf("share %d now on %v (the corrupt copy is on %s)", bad, ids, badServer.ID)
	}
	r, err = g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	// The corrupt copy is still on its server, and still reported; the
	// file has all 10 good shares again.
	if !r.Healthy || r.SharesGood != 10 || len(r.CorruptShares) != 1 {
		t.Errorf("verify after repair: %+v", r)
	}
}

func TestRepairUnrecoverable(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 100_000)
	files := g.shareFiles(t, cp.StorageIndex)
	for sh := 0; sh < 8; sh++ {
		if err := os.Remove(files[sh][0]); err != nil {
			t.Fatal(err)
		}
	}
	g.resetWrites()
	crr, err := g.c.CheckAndRepair(ctx, cp, client.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if crr.Pre.Recoverable || crr.Pre.UnrecoverableVersions != 1 || !crr.RepairAttempted || crr.RepairSuccessful || crr.RepairError == "" {
		t.Errorf("repair of 2 shares of 3-of-10: %+v", crr)
	}
	if len(g.written()) != 0 {
		t.Errorf("wrote %v", g.written())
	}
}

func TestAddLeaseRenewsEveryShare(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 80_000)
	res, err := g.c.AddLease(ctx, cp)
	if err != nil || len(res.Renewed) != 10 || len(res.Failed) != 0 {
		t.Fatalf("add-lease: %+v %v", res, err)
	}
	files := g.shareFiles(t, cp.StorageIndex)
	// Another client (another lease secret) adds its own lease to every
	// share container: the lease count in each container header goes to 2.
	other := *g.c
	other.LeaseSecret = []byte("another client's secret")
	if res, err := other.AddLease(ctx, cp); err != nil || len(res.Renewed) != 10 {
		t.Fatalf("second client's add-lease: %+v %v", res, err)
	}
	for _, ps := range files {
		b, err := os.ReadFile(ps[0])
		if err != nil {
			t.Fatal(err)
		}
		if n := binary.BigEndian.Uint32(b[8:12]); n != 2 {
			t.Errorf("%s holds %d leases, want 2", ps[0], n)
		}
	}
	os.Remove(files[0][0])
	res, err = g.c.AddLease(ctx, cp)
	if err != nil || len(res.Renewed) != 9 || len(res.Failed) != 0 {
		t.Fatalf("add-lease with a share gone: %+v %v", res, err)
	}
	m, err := g.c.CreateMutable(ctx, []byte("mutable contents"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = g.c.AddLease(ctx, m)
	if err != nil || len(res.Renewed) != 10 {
		t.Fatalf("add-lease on a mutable file: %+v %v", res, err)
	}
	if _, err := g.c.AddLease(ctx, &caps.Cap{Kind: caps.KindUnknown, Raw: "x"}); !errors.Is(err, client.ErrNotCheckable) {
		t.Errorf("unknown cap: %v", err)
	}
}

// mutableShareFiles returns share number → path of a mutable file's shares.
func (g *grid) mutableShareFiles(t *testing.T, cp *caps.Cap) map[int]string {
	t.Helper()
	out := map[int]string{}
	for sh, ps := range g.shareFiles(t, cp.StorageIndex) {
		if len(ps) != 1 {
			t.Fatalf("share %d in %d places", sh, len(ps))
		}
		out[sh] = ps[0]
	}
	return out
}

func readAll(t *testing.T, g *grid, cp *caps.Cap) string {
	t.Helper()
	var b bytes.Buffer
	if err := g.c.Download(context.Background(), cp, &b, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMutableCheckAndRepair: a mutable file with 4 shares deleted and one
// outdated share is unhealthy with Tahoe's counts and summary; repair
// republishes the newest version on all 10 shares.
func TestMutableCheckAndRepair(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp, err := g.c.CreateMutable(ctx, []byte("version one"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Healthy || r.Summary != "Healthy" || r.SharesGood != 10 || r.Happiness != 10 || r.RecoverableVersions != 1 ||
		len(r.Sharemap) != 10 || r.GoodShareHosts != 10 || len(r.ServersResponding) != 10 {
		t.Fatalf("fresh mutable file: %+v", r)
	}
	files := g.mutableShareFiles(t, cp)
	old, err := os.ReadFile(files[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := g.c.OverwriteMutable(ctx, cp, []byte("version two")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[2], old, 0o600); err != nil { // share 2 is outdated again
		t.Fatal(err)
	}
	for _, sh := range []int{0, 5, 7, 9} {
		if err := os.Remove(files[sh]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*caps.Cap{cp, cp.ReadOnly(), cp.Verifier()} {
		r, err = g.c.Check(ctx, c, client.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Healthy || !r.Recoverable || r.SharesGood != 5 || r.WrongShares != 1 || r.RecoverableVersions != 1 ||
			r.UnrecoverableVersions != 1 || r.GoodShareHosts != 5 || r.Happiness != 6 ||
			r.Summary != "Unhealthy: some versions are unrecoverable 5 shares (enc 3-of-10)" {
			t.Fatalf("%s: damaged mutable file: %+v", c.Kind, r)
		}
	}
	// A read cap cannot repair.
	crr, err := g.c.CheckAndRepair(ctx, cp.ReadOnly(), client.CheckOptions{})
	if err != nil || crr.RepairAttempted {
		t.Fatalf("repair through a read cap: %+v %v", crr, err)
	}
	crr, err = g.c.CheckAndRepair(ctx, cp, client.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !crr.RepairAttempted || !crr.RepairSuccessful || crr.Pre.Healthy {
		t.Fatalf("repair: %+v (%s)", crr, crr.RepairError)
	}
	p := crr.Post
	if !p.Healthy || p.SharesGood != 10 || p.WrongShares != 0 || p.UnrecoverableVersions != 0 || p.Happiness != 10 {
		t.Errorf("post-repair: %+v", p)
	}
	if got := readAll(t, g, cp); got != "version two" {
		t.Errorf("after repair the file reads %q", got)
	}
}

// TestMutableVerifyNamesCorruptShare flips a byte of one share's block:
// only a verify finds it, and names it.
func TestMutableVerifyNamesCorruptShare(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp, err := g.c.CreateMutable(ctx, bytes.Repeat([]byte("mdmf "), 3000), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := g.mutableShareFiles(t, cp)
	b, err := os.ReadFile(files[3])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10 // in the block data, behind the signed header
	if err := os.WriteFile(files[3], b, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := g.holder(t, cp.StorageIndex, 3)
	r, err := g.c.Check(ctx, cp, client.CheckOptions{})
	if err != nil || !r.Healthy {
		t.Fatalf("plain check: %+v %v", r, err)
	}
	r, err = g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]health.ShareLocator{{Server: bad.ID, StorageIndex: cp.StorageIndex, Share: 3}})
	if r.Healthy || r.SharesGood != 9 || fmt.Sprint(r.CorruptShares) != want ||
		r.Summary != fmt.Sprintf("Unhealthy: 9 shares (enc 3-of-10) Corrupt Shares: %s-sh3", strings.TrimPrefix(bad.ID, "v0-")[:8]) {
		t.Fatalf("verify: %+v", r)
	}
	crr, err := g.c.CheckAndRepair(ctx, cp, client.CheckOptions{Verify: true})
	if err != nil || !crr.RepairSuccessful || len(crr.Post.CorruptShares) != 0 {
		t.Fatalf("repair: %+v %v", crr, err)
	}
}

// TestMutableCheckReadsHeaders: a plain check of a large mutable file
// reads each share's headers (a few KiB), not the whole share; a verify
// reads them whole.
func TestMutableCheckReadsHeaders(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	for _, format := range []int{0, 1} {
		cp, err := g.c.CreateMutable(ctx, bytes.Repeat([]byte("large mutable "), 3<<20/14), format, nil)
		if err != nil {
			t.Fatal(err)
		}
		read := func() int {
			n := 0
			for _, w := range g.counters {
				w.mu.Lock()
				n += w.mutableRead
				w.mutableRead = 0
				w.mu.Unlock()
			}
			return n
		}
		read()
		r, err := g.c.Check(ctx, cp, client.CheckOptions{})
		if err != nil || !r.Healthy {
			t.Fatalf("format %d: plain check: %+v %v", format, r, err)
		}
		if n := read(); n > 10*16<<10 {
			t.Errorf("format %d: a plain check read %d bytes of ten 1 MiB shares", format, n)
		}
		r, err = g.c.Check(ctx, cp, client.CheckOptions{Verify: true})
		if err != nil || !r.Healthy {
			t.Fatalf("format %d: verify: %+v %v", format, r, err)
		}
		if n := read(); n < 10<<20 {
			t.Errorf("format %d: a verify read only %d bytes", format, n)
		}
	}
}

// racingServer lets another writer publish a version just before the
// repair's first write reaches any server (once is shared by all).
type racingServer struct {
	storage.Server
	once   *sync.Once
	before func()
}

func (r *racingServer) ReadTestWrite(ctx context.Context, si storage.StorageIndex, s storage.MutableSecrets, req storage.ReadTestWriteRequest) (storage.ReadTestWriteResult, error) {
	r.once.Do(r.before)
	return r.Server.ReadTestWrite(ctx, si, s, req)
}

func TestMutableRepairKeepsAConcurrentWrite(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp, err := g.c.CreateMutable(ctx, []byte("first"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := g.mutableShareFiles(t, cp)
	for _, sh := range []int{1, 2} {
		os.Remove(files[sh])
	}
	// The other writer uses the plain servers; the repairer's writes wait
	// until the other writer has published.
	other := *g.c
	racing := *g.c
	racing.Servers = append([]client.Server(nil), g.c.Servers...)
	once := &sync.Once{}
	before := func() {
		if err := other.OverwriteMutable(ctx, cp, []byte("the other writer's update")); err != nil {
			t.Errorf("other writer: %v", err)
		}
	}
	for i := range racing.Servers {
		racing.Servers[i].Storage = &racingServer{Server: racing.Servers[i].Storage, once: once, before: before}
	}
	crr, err := racing.CheckAndRepair(ctx, cp, client.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !crr.RepairAttempted || crr.RepairSuccessful || !strings.Contains(crr.RepairError, "uncoordinated") {
		t.Errorf("repair racing a writer: attempted %v successful %v error %q", crr.RepairAttempted, crr.RepairSuccessful, crr.RepairError)
	}
	if got := readAll(t, g, cp); got != "the other writer's update" {
		t.Errorf("after the race the file reads %q", got)
	}
}

// TestDirectoryRepair: a mutable directory with shares missing and one
// outdated is repaired to its newest contents.
func TestDirectoryRepair(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	dir, err := g.c.Mkdir(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	f := g.upload(t, 1000)
	if err := g.c.Link(ctx, dir, "one", f, false); err != nil {
		t.Fatal(err)
	}
	files := g.mutableShareFiles(t, dir)
	old, _ := os.ReadFile(files[4])
	if err := g.c.Link(ctx, dir, "two", f, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(files[4], old, 0o600)
	os.Remove(files[6])
	crr, err := g.c.CheckAndRepair(ctx, dir, client.CheckOptions{Verify: true})
	if err != nil || !crr.RepairSuccessful || crr.Pre.Healthy || crr.Pre.WrongShares != 1 || !crr.Post.Healthy {
		t.Fatalf("directory repair: %+v %v", crr, err)
	}
	es, err := g.c.ReadDir(ctx, dir)
	if err != nil || len(es) != 2 {
		t.Fatalf("after repair: %v %v", es, err)
	}
}

// hangingServer never answers a question about shares.
type hangingServer struct{ storage.Server }

func (hangingServer) ListShares(ctx context.Context, _ storage.StorageIndex) ([]int, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingServer) ListMutableShares(ctx context.Context, _ storage.StorageIndex) ([]int, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCheckGivesUpOnAHungServer(t *testing.T) {
	ctx := context.Background()
	g := newGrid(t)
	cp := g.upload(t, 50_000)
	m, err := g.c.CreateMutable(ctx, []byte("m"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *g.c
	c.Servers = append([]client.Server(nil), g.c.Servers...)
	c.Servers[3].Storage = hangingServer{c.Servers[3].Storage}
	c.QueryTimeout = 300 * time.Millisecond
	for _, cap := range []*caps.Cap{cp, m} {
		start := time.Now()
		r, err := c.Check(ctx, cap, client.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("check took %v", took)
		}
		if len(r.ServersResponding) != 9 || r.SharesGood != 9 || r.Healthy {
			t.Errorf("%s with a hung server: %+v", cap.Kind, r)
		}
		if slices.Contains(r.ServersResponding, c.Servers[3].ID) {
			t.Errorf("the hung server is listed as responding")
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.c.Check(cctx, cp, client.CheckOptions{Verify: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled check: %v", err)
	}
}

func BenchmarkCheckVerify(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if err := localgrid.Create(dir, 10); err != nil {
		b.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	c := &client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 3, Happy: 7, Total: 10, MaxSegmentSize: 128 << 10},
		Convergence: []byte("bench"), LeaseSecret: []byte("bench")}
	defer c.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, verify := range []bool{false, true} {
		b.Run(fmt.Sprintf("verify=%v", verify), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := c.Check(ctx, res.Cap, client.CheckOptions{Verify: verify})
				if err != nil || !r.Healthy {
					b.Fatal(r, err)
				}
			}
		})
	}
	b.Run("download", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := c.Download(ctx, res.Cap, io.Discard, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
