package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/happiness"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

// Client uploads and downloads immutable files on a grid of storage servers
// (the "direct" implementation of the file store).
type Client struct {
	Servers     []Server
	Encoding    nodedir.Encoding
	Convergence []byte // convergence secret (private/convergence)
	LeaseSecret []byte // client base secret (private/secret)
	// Logger receives debug records; discarded when nil.
	Logger *slog.Logger
	// QueryTimeout bounds each question to a server (default 30s).
	QueryTimeout time.Duration
	// ChunkSize is the size of the writes sent to servers (default 1 MiB).
	ChunkSize int
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) params() chk.Params {
	return chk.Params{Needed: c.Encoding.Needed, Total: c.Encoding.Total, MaxSegmentSize: c.Encoding.MaxSegmentSize, Convergence: c.Convergence}
}

// UnhappinessError says an upload could not reach servers-of-happiness:
// too few servers would hold distinct shares. No cap was produced.
type UnhappinessError struct {
	Happiness, Happy, Needed, Total int
	Servers, Reachable, ReadOnly    int
	Failures                        []string
}

func (e *UnhappinessError) Error() string {
	msg := fmt.Sprintf("shares could be placed on only %d server(s) such that any %d of them have enough shares to recover the file, but we were asked to place shares on at least %d such servers (%d of %d servers reachable, %d of them read-only)",
		e.Happiness, e.Needed, e.Happy, e.Reachable, e.Servers, e.ReadOnly)
	if len(e.Failures) > 0 {
		msg += "; " + strings.Join(e.Failures, "; ")
	}
	return msg
}

// UploadResult describes a finished upload.
type UploadResult struct {
	Cap       *caps.Cap
	Happiness int
	// Placement maps share number to the id of the server holding it.
	Placement map[int]string
	Uploaded  int // shares written
	Kept      int // shares already on the grid, leases renewed
}

// candidate is a server's state during one upload.
type candidate struct {
	srv      Server
	ok       bool // answered
	readOnly bool
	existing []int
	err      error
}

// Upload stores size bytes read from src (which is read twice: once for the
// convergent key, once to encrypt) and returns the cap. progress, when set,
// is told how many bytes of the file have been encoded; its calls never
// overlap.
func (c *Client) Upload(ctx context.Context, src io.ReaderAt, size uint64, progress func(int64)) (*UploadResult, error) {
	p := c.params()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if size <= chk.LITMax {
		cp, err := chk.ComputeCap(ctx, src, size, p)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(int64(size))
		}
		return &UploadResult{Cap: cp, Placement: map[int]string{}}, nil
	}
	key, err := chk.Key(ctx, src, size, p)
	if err != nil {
		return nil, err
	}
	_, _, alloc, err := chk.Plan(size, p)
	if err != nil {
		return nil, err
	}
	siBytes := caps.StorageIndexCHK(key)
	si, _ := toSI(siBytes)
	cands := c.query(ctx, Permuted(c.Servers, siBytes), si, alloc)
	var failures []string
	for round := 0; ; round++ {
		placement, happy := planFor(cands, c.Encoding.Total)
		if happy < c.Encoding.Happy {
			return nil, c.unhappy(cands, happy, failures)
		}
		res, failed, err := c.uploadRound(ctx, src, size, key, si, alloc, cands, placement, progress)
		if err != nil {
			return nil, err
		}
		if len(failed) == 0 {
			return res, nil
		}
		// Step 10: servers that failed are read-only from now on; ask again
		// what is where and plan again.
		for i, ferr := range failed {
			cands[i].readOnly = true
			failures = append(failures, fmt.Sprintf("server %s failed: %v", cands[i].srv.ID, ferr))
			c.logger().Debug("server failed during upload; planning again", "server", cands[i].srv.ID, "err", ferr)
		}
		if round > len(cands) {
			return nil, c.unhappy(cands, 0, failures)
		}
		c.requery(ctx, cands, si)
	}
}

func (c *Client) timeout() time.Duration {
	if c.QueryTimeout > 0 {
		return c.QueryTimeout
	}
	return 30 * time.Second
}

// query asks every server, at once, for its space and existing shares.
func (c *Client) query(ctx context.Context, servers []Server, si storage.StorageIndex, alloc uint64) []*candidate {
	cands := make([]*candidate, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		cands[i] = &candidate{srv: s}
		wg.Add(1)
		go func(cd *candidate) {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			v, err := cd.srv.Storage.Version(qctx)
			if err != nil {
				cd.err = err
				return
			}
			shares, err := cd.srv.Storage.ListShares(qctx, si)
			if err != nil {
				cd.err = err
				return
			}
			cd.ok = true
			cd.existing = shares
			cd.readOnly = v.AvailableSpace < alloc || (v.MaximumImmutableShareSize != 0 && v.MaximumImmutableShareSize < alloc)
		}(cands[i])
	}
	wg.Wait()
	return cands
}

func (c *Client) requery(ctx context.Context, cands []*candidate, si storage.StorageIndex) {
	var wg sync.WaitGroup
	for _, cd := range cands {
		if !cd.ok {
			continue
		}
		wg.Add(1)
		go func(cd *candidate) {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			shares, err := cd.srv.Storage.ListShares(qctx, si)
			if err != nil {
				cd.ok, cd.err = false, err
				return
			}
			cd.existing = shares
		}(cd)
	}
	wg.Wait()
}

// planFor runs the happiness plan over the servers that answered.
func planFor(cands []*candidate, total int) (map[int]*candidate, int) {
	var live []*candidate
	for _, cd := range cands {
		if cd.ok {
			live = append(live, cd)
		}
	}
	in := happiness.Input{NumServers: len(live), ReadOnly: make([]bool, len(live)), Existing: make([][]int, len(live))}
	for i, cd := range live {
		in.ReadOnly[i] = cd.readOnly
		in.Existing[i] = cd.existing
	}
	for sh := 0; sh < total; sh++ {
		in.Shares = append(in.Shares, sh)
	}
	p := happiness.Plan(in)
	out := make(map[int]*candidate, len(p))
	for sh, i := range p {
		out[sh] = live[i]
	}
	return out, p.Happiness()
}

func (c *Client) unhappy(cands []*candidate, happy int, failures []string) error {
	e := &UnhappinessError{Happiness: happy, Happy: c.Encoding.Happy, Needed: c.Encoding.Needed, Total: c.Encoding.Total, Servers: len(cands), Failures: failures}
	for _, cd := range cands {
		if cd.ok {
			e.Reachable++
			if cd.readOnly {
				e.ReadOnly++
			}
		} else if cd.err != nil && len(e.Failures) < 3 {
			e.Failures = append(e.Failures, fmt.Sprintf("server %s unreachable: %v", shortID(cd.srv.ID), cd.err))
		}
	}
	return e
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// holds reports whether cd already has share sh.
func (cd *candidate) holds(sh int) bool {
	for _, h := range cd.existing {
		if h == sh {
			return true
		}
	}
	return false
}

// uploadRound renews leases on kept shares, allocates and uploads the rest
// by encoding the file once. It returns the servers (by index in cands) that
// failed; a non-nil error aborts the upload.
func (c *Client) uploadRound(ctx context.Context, src io.ReaderAt, size uint64, key []byte, si storage.StorageIndex, alloc uint64,
	cands []*candidate, placement map[int]*candidate, progress func(int64)) (*UploadResult, map[int]error, error) {
	index := map[*candidate]int{}
	for i, cd := range cands {
		index[cd] = i
	}
	failed := map[int]error{}
	var fmu sync.Mutex
	fail := func(cd *candidate, err error) {
		fmu.Lock()
		defer fmu.Unlock()
		if _, dup := failed[index[cd]]; !dup {
			failed[index[cd]] = err
		}
	}
	res := &UploadResult{Placement: map[int]string{}}
	keep := map[*candidate][]int{}
	send := map[*candidate][]int{}
	for sh, cd := range placement {
		if cd.holds(sh) {
			keep[cd] = append(keep[cd], sh)
		} else {
			send[cd] = append(send[cd], sh)
		}
	}
	var wg sync.WaitGroup
	for cd := range keep {
		wg.Add(1)
		go func(cd *candidate) {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			if err := cd.srv.Storage.AddOrRenewLease(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(cd.srv))); err != nil {
				fail(cd, fmt.Errorf("renewing lease: %w", err))
			}
		}(cd)
	}
	writers := map[int]*shareWriter{}
	var wmu sync.Mutex
	for cd, shares := range send {
		sort.Ints(shares)
		wg.Add(1)
		go func(cd *candidate, shares []int) {
			defer wg.Done()
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				fail(cd, err)
				return
			}
			qctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			ar, err := cd.srv.Storage.AllocateBuckets(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(cd.srv)), secret, shares, alloc)
			if err != nil {
				fail(cd, fmt.Errorf("allocating: %w", err))
				return
			}
			allocated := map[int]bool{}
			for _, sh := range ar.Allocated {
				allocated[sh] = true
			}
			have := map[int]bool{}
			for _, sh := range ar.AlreadyHave {
				have[sh] = true
			}
			wmu.Lock()
			defer wmu.Unlock()
			for _, sh := range shares {
				switch {
				case allocated[sh]:
					writers[sh] = &shareWriter{cd: cd, si: si, shnum: sh, secret: secret}
				case have[sh]:
					// Another upload finished it meanwhile: keep it.
				default:
					fail(cd, fmt.Errorf("server refused to allocate share %d", sh))
				}
			}
		}(cd, shares)
	}
	wg.Wait()
	if len(failed) > 0 {
		abortAll(ctx, writers)
		return nil, failed, nil
	}

	sink := newUploadSink(ctx, writers, c.chunkSize(), c.timeout(), fail)
	var reader io.ReaderAt = src
	if progress != nil {
		var mu sync.Mutex
		var counted int64
		reader = progressReader{src, func(n int) {
			mu.Lock()
			defer mu.Unlock()
			counted += int64(n)
			progress(counted)
		}}
	}
	r, err := chk.EncodeWithKey(ctx, reader, size, key, c.params(), sink)
	if ferr := sink.finish(); err == nil {
		err = ferr
	}
	if err != nil && len(failed) == 0 {
		abortAll(ctx, writers)
		return nil, nil, err
	}
	if len(failed) > 0 {
		for _, w := range writers {
			if _, bad := failed[index[w.cd]]; bad {
				w.abort(ctx)
			}
		}
		return nil, failed, nil
	}
	res.Cap = r.Cap
	for sh, cd := range placement {
		res.Placement[sh] = cd.srv.ID
		if _, ok := writers[sh]; ok {
			res.Uploaded++
		} else {
			res.Kept++
		}
	}
	servers := map[string]bool{}
	for _, id := range res.Placement {
		servers[id] = true
	}
	res.Happiness = len(servers)
	return res, nil, nil
}

func (c *Client) chunkSize() int {
	if c.ChunkSize > 0 {
		return c.ChunkSize
	}
	return 1 << 20
}

// progressReader counts bytes read through it.
type progressReader struct {
	r     io.ReaderAt
	count func(int)
}

func (p progressReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	p.count(n)
	return n, err
}

// shareWriter streams one share to one server.
type shareWriter struct {
	cd     *candidate
	si     storage.StorageIndex
	shnum  int
	secret []byte
	buf    []byte
	bufOff uint64
	done   bool
}

func (w *shareWriter) abort(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = w.cd.srv.Storage.AbortUpload(actx, w.si, w.shnum, w.secret)
}

func abortAll(ctx context.Context, writers map[int]*shareWriter) {
	for _, w := range writers {
		w.abort(ctx)
	}
}

// uploadSink receives the encoder's bytes, batches them per share and sends
// each batch to its server from a goroutine per server, so servers are
// written in parallel while the encoder runs ahead by a bounded amount.
type uploadSink struct {
	ctx     context.Context
	writers map[int]*shareWriter
	chunk   int
	timeout time.Duration // per write
	fail    func(*candidate, error)
	queues  map[*candidate]chan sendJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    map[*candidate]bool
}

// writesInFlight is how many chunk writes each server has at once.
const writesInFlight = 3

type sendJob struct {
	w    *shareWriter
	off  uint64
	data []byte
}

func newUploadSink(ctx context.Context, writers map[int]*shareWriter, chunk int, timeout time.Duration, fail func(*candidate, error)) *uploadSink {
	s := &uploadSink{ctx: ctx, writers: writers, chunk: chunk, timeout: timeout, fail: fail, queues: map[*candidate]chan sendJob{}, errs: map[*candidate]bool{}}
	for _, w := range writers {
		if _, ok := s.queues[w.cd]; ok {
			continue
		}
		q := make(chan sendJob, 4)
		s.queues[w.cd] = q
		// A few writes in flight per server hide the round trips.
		for range writesInFlight {
			s.wg.Add(1)
			go s.serve(w.cd, q)
		}
	}
	return s
}

func (s *uploadSink) serve(cd *candidate, q chan sendJob) {
	defer s.wg.Done()
	for job := range q {
		s.mu.Lock()
		broken := s.errs[cd]
		s.mu.Unlock()
		if broken {
			continue
		}
		wctx, cancel := context.WithTimeout(s.ctx, s.timeout)
		_, err := cd.srv.Storage.WriteShareChunk(wctx, job.w.si, job.w.shnum, job.w.secret, job.off, job.data)
		cancel()
		if err != nil {
			s.mu.Lock()
			s.errs[cd] = true
			s.mu.Unlock()
			s.fail(cd, fmt.Errorf("writing share %d: %w", job.w.shnum, err))
		}
	}
}

// WriteShare batches bytes; shares are written front to back, so a batch
// is always contiguous.
func (s *uploadSink) WriteShare(shnum int, off uint64, data []byte) error {
	w, ok := s.writers[shnum]
	if !ok {
		return nil // kept elsewhere, or not in the plan
	}
	if len(w.buf) > 0 && w.bufOff+uint64(len(w.buf)) != off {
		s.flush(w)
	}
	if len(w.buf) == 0 {
		w.bufOff = off
	}
	w.buf = append(w.buf, data...)
	if len(w.buf) >= s.chunk {
		s.flush(w)
	}
	return s.ctx.Err()
}

func (s *uploadSink) flush(w *shareWriter) {
	if len(w.buf) == 0 {
		return
	}
	job := sendJob{w: w, off: w.bufOff, data: w.buf}
	w.buf = nil
	select {
	case s.queues[w.cd] <- job:
	case <-s.ctx.Done():
	}
}

// finish sends what is left and waits for every server.
func (s *uploadSink) finish() error {
	for _, w := range s.writers {
		s.flush(w)
	}
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
	return s.ctx.Err()
}
