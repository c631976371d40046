package mutable

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/storage"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds one question to one server.
	DefaultTimeout = 5 * time.Second
	// DefaultTransferTimeout bounds one whole-share read or one write.
	DefaultTransferTimeout = 60 * time.Second
	// DefaultGrace is how long slower servers still get once k shares of
	// the newest version seen are found.
	DefaultGrace = 250 * time.Millisecond
)

// Options bound how long Retrieve, Overwrite and Create wait for servers.
// The zero value takes the defaults.
type Options struct {
	// Timeout bounds each question to one server: listing its shares and
	// reading their first bytes (DefaultTimeout when 0).
	Timeout time.Duration
	// TransferTimeout bounds each whole-share read and each write
	// (DefaultTransferTimeout when 0).
	TransferTimeout time.Duration
	// Grace: when reading, once k shares of the newest version seen are
	// found, the servers still to answer get this long (DefaultGrace when
	// 0, none when negative).
	Grace time.Duration
	// OnBad, when set, hears about each share that fails a check or a read.
	OnBad func(shnum int, err error)
	// Needed is the k a read assumes before any share has said (the
	// client's configured k, as Tahoe assumes; 3 when 0).
	Needed int
	// Total is the N a read assumes: of the first Total servers, those
	// already connected are asked first (10 when 0).
	Total int
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) transferTimeout() time.Duration {
	if o.TransferTimeout > 0 {
		return o.TransferTimeout
	}
	return DefaultTransferTimeout
}

func (o Options) grace() time.Duration {
	switch {
	case o.Grace < 0:
		return 0
	case o.Grace == 0:
		return DefaultGrace
	}
	return o.Grace
}

func (o Options) bad(n int, err error) {
	if o.OnBad != nil {
		o.OnBad(n, err)
	}
}

// prefixRead is how much of each share the servermap reads: the header
// with the version and the offsets table, and for small files (most
// directories) the whole share, so that they cost one round trip.
const prefixRead = 4096

// ErrTorn marks a share that changed while it was being read: a writer was
// replacing it in place. It is not corruption, and no advisory is sent.
var ErrTorn = errors.New("share changed while it was read (a concurrent write)")

// located is one share found on one server, from its first bytes.
type located struct {
	server int
	num    int
	raw    []byte // what was read: the whole share when whole
	whole  bool
	eof    uint64 // the share's length by its offsets table (0: unknown)
	signed string // the signed header: the version's identity
	seqnum uint64
	root   []byte
	needed int
	pre    *prefetch // the rest of the share, being read (reads only)
}

// prefetch is the rest of one share, read while the servermap still waits
// for other servers.
type prefetch struct {
	done chan struct{}
	data []byte // the whole share
	err  error
}

// serverMap is what the servers said: every share located (in server
// order) and which servers answered. Close it to stop and join the reads
// it started.
type serverMap struct {
	shares   []*located
	answered []bool
	asked    int // servers asked (all but a read's that stopped early)
	bad      int // shares that did not parse
	pf       *prefetcher
}

// close cancels the share reads still running and waits for them.
func (m *serverMap) close() {
	if m != nil && m.pf != nil {
		m.pf.cancel()
		m.pf.wg.Wait()
	}
}

// fingerprint identifies what the map found: each share's place and
// version, and how many shares did not parse.
func (m *serverMap) fingerprint() string {
	var b strings.Builder
	for _, l := range m.shares {
		fmt.Fprintf(&b, "%d/%d/%x;", l.server, l.num, l.signed)
	}
	fmt.Fprintf(&b, "bad %d", m.bad)
	return b.String()
}

// version is the shares of one version, in server order.
type version struct {
	signed string
	seqnum uint64
	root   []byte
	needed int
	shares []*located
}

// distinctNums is how many share numbers the version has.
func (v *version) distinctNums() int {
	seen := map[int]bool{}
	for _, l := range v.shares {
		seen[l.num] = true
	}
	return len(seen)
}

// parseLocated reads the version fields of a share's first bytes.
func parseLocated(server, num int, raw []byte, whole bool) (*located, error) {
	if len(raw) == 0 {
		return nil, corrupt("share %d: empty share", num)
	}
	var signedLen, kAt, headerLen, eofAt int
	switch raw[0] {
	case VersionSDMF:
		signedLen, kAt, headerLen, eofAt = sdmfSignedLen, 1+8+32+saltSize, sdmfHeaderLen, sdmfSignedLen+16+8
	case VersionMDMF:
		signedLen, kAt, headerLen, eofAt = mdmfSignedLen, 1+8+32, mdmfHeaderLen, mdmfSignedLen+56
	default:
		return nil, corrupt("share %d: unknown mutable share version %d", num, raw[0])
	}
	if len(raw) < signedLen {
		return nil, corrupt("share %d: header needs %d bytes, got %d", num, signedLen, len(raw))
	}
	l := &located{server: server, num: num, raw: raw, whole: whole,
		signed: string(raw[:signedLen]), seqnum: binary.BigEndian.Uint64(raw[1:]), root: raw[9:41], needed: int(raw[kAt])}
	if l.needed < 1 || int(raw[kAt+1]) < l.needed || num >= int(raw[kAt+1]) {
		return nil, corrupt("share %d: encoding %d-of-%d", num, l.needed, raw[kAt+1])
	}
	if len(raw) >= headerLen {
		l.eof = binary.BigEndian.Uint64(raw[eofAt:])
		if l.eof > maxShareRead {
			l.eof = 0 // the read is bounded anyway; the parse will say
		}
		if l.eof > 0 && l.eof <= uint64(len(raw)) {
			l.whole = true
		}
	}
	return l, nil
}

// versions groups the located shares by version, newest first (seqnum,
// then root hash, then the whole signed header).
func (m *serverMap) versions() []*version {
	byKey := map[string]*version{}
	var out []*version
	for _, l := range m.shares {
		v := byKey[l.signed]
		if v == nil {
			v = &version{signed: l.signed, seqnum: l.seqnum, root: l.root, needed: l.needed}
			byKey[l.signed] = v
			out = append(out, v)
		}
		v.shares = append(v.shares, l)
	}
	sort.SliceStable(out, func(a, b int) bool { return newer(out[a], out[b]) })
	return out
}

func newer(x, y *version) bool {
	if x.seqnum != y.seqnum {
		return x.seqnum > y.seqnum
	}
	if d := bytes.Compare(x.root, y.root); d != 0 {
		return d > 0
	}
	return x.signed > y.signed
}

// prefetcher starts reading the rest of the first k shares of the newest
// version seen while the servermap still waits for other servers, so that
// a read costs no round trip after the map. It reads at most
// 2k shares in all, and k distinct share numbers of any one version.
type prefetcher struct {
	ctx     context.Context
	cancel  context.CancelFunc
	si      storage.StorageIndex
	servers []storage.Server
	o       Options
	wg      sync.WaitGroup
	mu      sync.Mutex
	newest  *version
	started map[string]map[int]bool // by version: share numbers being read
	total   int
}

func newPrefetcher(ctx context.Context, si storage.StorageIndex, servers []storage.Server, o Options) *prefetcher {
	pctx, cancel := context.WithCancel(ctx)
	return &prefetcher{ctx: pctx, cancel: cancel, si: si, servers: servers, o: o, started: map[string]map[int]bool{}}
}

// offer starts reading the rest of l when it is of the newest version seen
// and that version still lacks k shares being read.
func (p *prefetcher) offer(l *located) {
	if l.whole {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	v := &version{signed: l.signed, seqnum: l.seqnum, root: l.root}
	if p.newest == nil || newer(v, p.newest) {
		p.newest = v
	}
	nums := p.started[l.signed]
	if p.newest.signed != l.signed || len(nums) >= l.needed || nums[l.num] || p.total >= 2*l.needed {
		return
	}
	if nums == nil {
		nums = map[int]bool{}
		p.started[l.signed] = nums
	}
	nums[l.num] = true
	p.total++
	pre := &prefetch{done: make(chan struct{})}
	l.pre = pre
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(pre.done)
		rctx, cancel := context.WithTimeout(p.ctx, p.o.transferTimeout())
		defer cancel()
		pre.data, pre.err = readRest(rctx, p.si, p.servers, l)
	}()
}

// readRest reads the part of l's share beyond its first bytes (to the end
// its offsets table gives) and returns the whole share.
func readRest(ctx context.Context, si storage.StorageIndex, servers []storage.Server, l *located) ([]byte, error) {
	if l.whole {
		return l.raw, nil
	}
	n := uint64(maxShareRead) - uint64(len(l.raw))
	if l.eof > uint64(len(l.raw)) {
		n = l.eof - uint64(len(l.raw))
	}
	if st, ok := servers[l.server].(shareStreamer); ok && l.eof > uint64(len(l.raw)) {
		// The length is known: read straight after the first bytes, in
		// one buffer of the right size (room for bytes.Buffer's last
		// probe for the end), rather than growing one and copying. The
		// length is the share's word: past presizeMax the buffer grows
		// with what actually arrives.
		buf := bytes.NewBuffer(append(make([]byte, 0, min(l.eof, presizeMax)+bytes.MinRead), l.raw...))
		if _, err := st.ReadShareTo(ctx, buf, true, si, l.num, uint64(len(l.raw)), n); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	rest, err := servers[l.server].ReadMutableShareChunk(ctx, si, l.num, uint64(len(l.raw)), n)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(l.raw)+len(rest))
	return append(append(out, l.raw...), rest...), nil
}

// presizeMax bounds the buffer a share read allocates on the strength of
// the share's own offsets table.
const presizeMax = 8 << 20

// shareStreamer is a server that streams a share range into a writer (a
// GBS client), so a read need not collect it in a buffer of its own.
type shareStreamer interface {
	ReadShareTo(ctx context.Context, w io.Writer, mutable bool, si storage.StorageIndex, shnum int, offset, length uint64) (int64, error)
}

// mapMode is how much of the grid a servermap asks.
type mapMode int

const (
	// mapWrite asks every server at once and hears each out (under the
	// timeout): every share must be replaced.
	mapWrite mapMode = iota
	// mapRead asks the servers in permuted order, a few at a time, until
	// it may stop as Tahoe's MODE_READ does (see readPlan); servers it
	// does not ask are not contacted at all.
	mapRead
	// mapReadAll asks every server at once and stops, after the grace,
	// once the newest version seen has k shares: the second look of a
	// read that failed.
	mapReadAll
)

// guessNeeded is the k a read assumes before any share has said, when
// Options.Needed does not say (Tahoe's guess too).
const guessNeeded = 3

// guessTotal is the N a read assumes when Options.Total does not say
// (Tahoe's default).
const guessTotal = 10

func (o Options) total() int {
	if o.Total > 0 {
		return o.Total
	}
	return guessTotal
}

// warmer is a server that knows whether a connection to it is likely
// open already (a GBS client: pkg/client/gbs).
type warmer interface{ Warm() bool }

func isWarm(s storage.Server) bool {
	w, ok := s.(warmer)
	return ok && w.Warm()
}

// preferWarm returns servers (in permuted order) with, among the first
// window of them, those already connected moved to the front, each group
// in the order given. A healthy upload puts the N shares on the first N
// servers, so asking any of them first finds as much, and asking a
// connected one costs no new handshake (a path's directories, read one
// after another, each through its own first 2k servers, would otherwise
// connect to most of the grid).
func preferWarm(servers []storage.Server, window int) []storage.Server {
	window = min(window, len(servers))
	out := make([]storage.Server, 0, len(servers))
	for _, s := range servers[:window] {
		if isWarm(s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 || len(out) == window {
		return servers
	}
	for _, s := range servers[:window] {
		if !isWarm(s) {
			out = append(out, s)
		}
	}
	return append(out, servers[window:]...)
}

func (o Options) needed() int {
	if o.Needed > 0 {
		return o.Needed
	}
	return guessNeeded
}

// maxInFlight is how many servers a read keeps asking at once while
// looking beyond its first 2k for a version it can read.
const maxInFlight = 5

// readPlan decides, for a mapRead servermap, how many more servers to
// ask and when to stop. It gives the guarantee of Tahoe's MODE_READ
// (servermap.py), counting only servers that answered (a failed query does
// not count, which Tahoe's does): stop once at least k+epsilon servers
// have answered (epsilon = k, with k the largest of the guess and what any
// share found claims), a version is recoverable (k distinct shares
// located), and no version with a higher seqnum is seen that is not; or
// once every server has been asked and has answered. The first 2k servers
// are asked at once; a failure is replaced at once; when the answers are
// in and do not settle it, maxInFlight more are asked; and when no server
// answers for the stall delay (the grace), one more is asked for each
// still pending, or, with every server asked and a settled map, the slow
// ones are left out.
func readPlan(guess int, p fanout.Progress[answer]) (more int, done bool) {
	m := &serverMap{}
	ok := 0
	for _, r := range p.Results[:p.Asked] {
		if r.Done && r.Err == nil {
			ok++
			m.shares = append(m.shares, r.Value.shares...)
		}
	}
	vs := m.versions()
	k := guess
	for _, v := range vs {
		k = max(k, v.needed)
	}
	target := 2 * k
	switch {
	case ok >= target && settled(vs):
		return 0, true
	case p.Stalled && p.Asked == len(p.Results) && settled(vs):
		// No one is left to ask in place of the slow: they had the
		// grace, as a read that asks everyone gives them.
		return 0, true
	case p.Stalled:
		return max(p.Pending, 1), false
	case ok+p.Pending < target:
		return target - ok - p.Pending, false
	case p.Pending == 0:
		return maxInFlight, false
	}
	return 0, false
}

// settled says whether versions (newest first) hold a recoverable
// version and no version of a higher seqnum that is not recoverable.
func settled(vs []*version) bool {
	for i, v := range vs {
		if v.distinctNums() < v.needed {
			continue
		}
		for _, newer := range vs[:i] {
			if newer.seqnum > v.seqnum {
				return false
			}
		}
		return true
	}
	return false
}

// answer is what one server said: the shares it holds, from their first
// bytes, and those it could not read or parse.
type answer struct {
	shares []*located
	bad    map[int]error
}

// mapServers asks the servers which shares of si they hold and reads the
// first bytes of each, every server under o's timeout, as mode says. For
// a read (mapRead, mapReadAll) it meanwhile starts reading the rest of the
// first k shares of the newest version (close the map to join those
// reads).
func mapServers(ctx context.Context, si storage.StorageIndex, servers []storage.Server, o Options, mode mapMode) (*serverMap, error) {
	var pf *prefetcher
	if mode != mapWrite {
		pf = newPrefetcher(ctx, si, servers, o)
	}
	query := func(ctx context.Context, i int) (answer, error) {
		srv := servers[i]
		nums, err := srv.ListMutableShares(ctx, si)
		if err != nil {
			return answer{}, err
		}
		var a answer
		for _, n := range nums {
			b, err := srv.ReadMutableShareChunk(ctx, si, n, 0, prefixRead)
			if ctx.Err() != nil {
				return a, ctx.Err()
			}
			if err == nil {
				var l *located
				if l, err = parseLocated(i, n, b, len(b) < prefixRead); err == nil {
					if pf != nil {
						pf.offer(l)
					}
					a.shares = append(a.shares, l)
					continue
				}
			} else {
				err = fmt.Errorf("reading share %d: %w", n, err)
			}
			if a.bad == nil {
				a.bad = map[int]error{}
			}
			a.bad[n] = err
		}
		return a, nil
	}
	var rs []fanout.Result[answer]
	switch mode {
	case mapRead:
		rs = fanout.Staged(ctx, len(servers), fanout.StagedOptions{Timeout: o.timeout(), Stall: o.grace()}, query,
			func(p fanout.Progress[answer]) (int, bool) { return readPlan(o.needed(), p) })
	case mapReadAll:
		enough := func(rs []fanout.Result[answer]) bool {
			m := &serverMap{}
			for _, r := range rs {
				m.shares = append(m.shares, r.Value.shares...)
			}
			vs := m.versions()
			return len(vs) > 0 && vs[0].distinctNums() >= vs[0].needed
		}
		rs = fanout.Ask(ctx, len(servers), fanout.Options{Timeout: o.timeout(), Grace: o.grace()}, query, enough)
	default:
		rs = fanout.Ask(ctx, len(servers), fanout.Options{Timeout: o.timeout()}, query, nil)
	}
	m := &serverMap{answered: make([]bool, len(servers)), pf: pf}
	if err := ctx.Err(); err != nil {
		m.close()
		return nil, err
	}
	for i, r := range rs {
		if !r.Done && r.Err == nil {
			continue // never asked
		}
		m.asked++
		if r.Err != nil {
			continue // an unreachable server holds nothing we can use
		}
		m.answered[i] = true
		m.shares = append(m.shares, r.Value.shares...)
		for n, err := range r.Value.bad {
			m.bad++
			o.bad(n, err)
		}
	}
	return m, nil
}

// fetch reads the whole of each located share that is not whole yet, all at
// once (or takes what the servermap's reads got), and parses them; from
// records where each came from. Shares that fail to read or parse are
// reported and left out; one that does not parse is judged (see judge).
func fetch(ctx context.Context, si storage.StorageIndex, servers []storage.Server, ls []*located, o Options, from map[*Share]*located) ([]*Share, error) {
	rs := fanout.Ask(ctx, len(ls), fanout.Options{Timeout: o.transferTimeout()}, func(ctx context.Context, i int) ([]byte, error) {
		l := ls[i]
		if l.whole {
			return l.raw, nil
		}
		if p := l.pre; p != nil {
			select {
			case <-p.done:
				if p.err == nil {
					return p.data, nil
				}
				// A failed early read gets a second chance here.
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return readRest(ctx, si, servers, l)
	}, nil)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*Share
	for i, r := range rs {
		l := ls[i]
		if r.Err != nil {
			o.bad(l.num, fmt.Errorf("reading share %d: %w", l.num, r.Err))
			continue
		}
		l.raw, l.whole, l.pre = r.Value, true, nil
		s, err := ParseShare(l.num, r.Value)
		if err != nil {
			o.bad(l.num, judge(ctx, si, servers, l, fmt.Errorf("share %d: %w", l.num, err), o))
			continue
		}
		if from != nil {
			from[s] = l
		}
		out = append(out, s)
	}
	return out, nil
}

// judge decides what a share that failed a check is. It is read again
// whole: when its bytes have changed, a writer was replacing it in place
// while we read (a torn read), and the error returned wraps ErrTorn, not
// ErrCorrupt, and no advisory is sent. When the bytes are the same, the
// share is corrupt and its server is told so, as Tahoe's retrieve does
// (best effort, bounded by the query timeout). When it cannot be read
// again nothing is advised.
func judge(ctx context.Context, si storage.StorageIndex, servers []storage.Server, l *located, err error, o Options) error {
	if l == nil || !errors.Is(err, ErrCorrupt) {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, o.transferTimeout())
	again, rerr := servers[l.server].ReadMutableShareChunk(rctx, si, l.num, 0, uint64(len(l.raw))+1)
	cancel()
	if rerr != nil {
		return err
	}
	if !bytes.Equal(again, l.raw) {
		return fmt.Errorf("share %d: %w", l.num, ErrTorn)
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeout())
	defer cancel()
	_ = servers[l.server].AdviseCorruptMutableShare(actx, si, l.num, err.Error())
	return err
}
