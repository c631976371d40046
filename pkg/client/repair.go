package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/happiness"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/storage"
)

// CheckAndRepair checks the object cp names and, when it is not healthy,
// repairs it: for an immutable file or directory, the shares that are
// missing or corrupt are rebuilt from any k good ones (with the same
// encoding, so the cap is unchanged) and placed by servers-of-happiness,
// leaving every good share where it is. The post-repair results are the
// pre-repair sharemap plus the shares placed, as Tahoe reports them.
func (c *Client) CheckAndRepair(ctx context.Context, cp *caps.Cap, o CheckOptions) (*health.CheckAndRepair, error) {
	switch cp.Kind {
	case caps.KindLIT, caps.KindDIR2LIT:
		return health.LiteralRepair(), nil
	case caps.KindCHK, caps.KindCHKVerifier, caps.KindDIR2CHK, caps.KindDIR2CHKVerifier:
	default:
		if cp.IsUnknown() {
			return nil, fmt.Errorf("%w: %s", ErrNotCheckable, cp.Kind)
		}
		return c.checkAndRepairMutable(ctx, cp, o)
	}
	pre, err := c.Check(ctx, cp, o)
	if err != nil {
		return nil, err
	}
	out := &health.CheckAndRepair{StorageIndex: pre.StorageIndex, Pre: pre, Post: pre}
	if pre.Healthy {
		return out, nil
	}
	out.RepairAttempted = true
	placed, err := c.repairImmutable(ctx, cp, pre)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.logger().Debug("repair failed", "si", pre.StorageIndexString(), "err", err)
		out.RepairError = err.Error()
	}
	out.Post = postRepair(pre, placed)
	out.RepairSuccessful = out.Post.Healthy
	return out, nil
}

// postRepair is Tahoe's post-repair results: the pre-repair sharemap with
// the newly placed shares added; summary "healthy" or "not healthy".
func postRepair(pre *health.Results, placed map[int]string) *health.Results {
	post := &health.Results{
		StorageIndex: pre.StorageIndex, SharesNeeded: pre.SharesNeeded, SharesExpected: pre.SharesExpected,
		CorruptShares: pre.CorruptShares, IncompatibleShares: pre.IncompatibleShares,
	}
	responding := map[string]bool{}
	for _, id := range pre.ServersResponding {
		responding[id] = true
	}
	holdings := map[string][]int{}
	sharemap := map[int][]string{}
	add := func(sh int, id string) {
		for _, have := range sharemap[sh] {
			if have == id {
				return
			}
		}
		sharemap[sh] = append(sharemap[sh], id)
		holdings[id] = append(holdings[id], sh)
	}
	preShares := pre.Shares()
	for _, sh := range sortedShares(preShares) {
		for _, id := range preShares[sh] {
			add(sh, id)
		}
	}
	for sh, id := range placed {
		add(sh, id)
		responding[id] = true
	}
	for id := range responding {
		post.ServersResponding = append(post.ServersResponding, id)
	}
	post.GoodShareHosts = len(holdings)
	post.Sharemap = health.NumberedSharemap(sharemap)
	finishImmutable(post, holdings)
	if post.Healthy {
		post.Summary = "healthy"
	} else {
		post.Summary = "not healthy"
	}
	return post
}

// repairTarget is one server taking rebuilt shares.
type repairTarget struct {
	srv      Server
	readOnly bool
	good     []int // good shares it holds
	corrupt  map[int]bool
}

// repairImmutable rebuilds and places the shares a servers-of-happiness
// plan wants where they are not yet. It returns the shares it placed
// (share → server id), even when it fails part way.
func (c *Client) repairImmutable(ctx context.Context, cp *caps.Cap, pre *health.Results) (map[int]string, error) {
	vc, err := immutableFile(cp)
	if err != nil {
		return nil, err
	}
	si, _ := toSI(vc.StorageIndex)
	servers := Permuted(c.Servers, vc.StorageIndex)
	byID := map[string]Server{}
	for _, s := range servers {
		byID[s.ID] = s
	}
	// Sources: every good share, read from the first server (in permuted
	// order) that holds it.
	sources := map[int]chk.ShareReader{}
	var first chk.ShareReader
	firstNum := -1
	preShares := pre.Shares()
	for _, s := range servers {
		for _, sh := range sortedShares(preShares) {
			if _, done := sources[sh]; done {
				continue
			}
			for _, id := range preShares[sh] {
				if id == s.ID {
					sources[sh] = shareOn{srv: s, si: si, shnum: sh, timeout: c.timeout()}
					if firstNum < 0 || sh < firstNum {
						first, firstNum = sources[sh], sh
					}
				}
			}
		}
	}
	if len(sources) < vc.Needed {
		return nil, &chk.NotEnoughSharesError{Found: len(sources), Needed: vc.Needed}
	}
	info, err := chk.OpenShare(ctx, vc, firstNum, first)
	if err != nil {
		return nil, fmt.Errorf("reading share %d: %w", firstNum, err)
	}
	alloc := info.Header.AllocatedSize(len(info.UEB))

	targets := c.repairTargets(ctx, servers, si, alloc, pre)
	plan := planRepair(targets, vc.Total)
	if len(plan) == 0 {
		return nil, errors.New("no server can take the missing shares")
	}
	writers, placed, err := c.allocateRepair(ctx, si, alloc, plan)
	if err != nil && len(writers) == 0 {
		return placed, err
	}
	want := make([]int, 0, len(writers))
	for sh := range writers {
		want = append(want, sh)
	}
	sort.Ints(want)
	sink := newRepairSink(ctx, writers, c.chunkSize(), c)
	rerr := chk.Rebuild(ctx, vc, sources, want, sink, chk.RebuildOptions{OnBadShare: func(sh int, err error) {
		c.logger().Debug("repair source rejected", "share", sh, "err", err)
	}})
	failed := sink.finish()
	for sh, w := range writers {
		if failed[sh] == nil && rerr == nil {
			placed[sh] = w.srv.ID
		} else {
			w.abort(ctx)
		}
	}
	if rerr != nil {
		return placed, fmt.Errorf("rebuilding shares: %w", rerr)
	}
	for _, sh := range want {
		if ferr := failed[sh]; ferr != nil {
			return placed, ferr
		}
	}
	return placed, err
}

// repairTargets asks every server for its space and combines it with what
// the check found.
func (c *Client) repairTargets(ctx context.Context, servers []Server, si storage.StorageIndex, alloc uint64, pre *health.Results) []*repairTarget {
	ts := make([]*repairTarget, len(servers))
	preShares := pre.Shares()
	for i, s := range servers {
		ts[i] = &repairTarget{srv: s, corrupt: map[int]bool{}, readOnly: true}
		for _, sh := range sortedShares(preShares) {
			for _, id := range preShares[sh] {
				if id == s.ID {
					ts[i].good = append(ts[i].good, sh)
				}
			}
		}
		for _, l := range append(append([]health.ShareLocator(nil), pre.CorruptShares...), pre.IncompatibleShares...) {
			if l.Server == s.ID {
				ts[i].corrupt[l.Share] = true
			}
		}
	}
	rs := forEachServer(ctx, c, servers, func(qctx context.Context, s Server) (storage.Version, error) {
		return s.Storage.Version(qctx)
	})
	for i, r := range rs {
		if r.Err == nil {
			v := r.Value
			ts[i].readOnly = v.AvailableSpace < alloc || (v.MaximumImmutableShareSize != 0 && v.MaximumImmutableShareSize < alloc)
		}
	}
	return ts
}

// planRepair places all N shares by servers-of-happiness, the good shares
// counted where they are, and returns the placements that need a write:
// share → target, for each share the plan puts on a server not already
// holding a good copy. A server holding a bad copy of a share cannot take
// it again (its store already has that share number); such a share goes to
// the least loaded writable server instead.
func planRepair(ts []*repairTarget, total int) map[int]*repairTarget {
	in := happiness.Input{NumServers: len(ts), ReadOnly: make([]bool, len(ts)), Existing: make([][]int, len(ts))}
	for i, t := range ts {
		in.ReadOnly[i], in.Existing[i] = t.readOnly, t.good
	}
	for sh := 0; sh < total; sh++ {
		in.Shares = append(in.Shares, sh)
	}
	p := happiness.Plan(in)
	load := make([]int, len(ts))
	for _, i := range p {
		load[i]++
	}
	holdsGood := func(t *repairTarget, sh int) bool {
		for _, g := range t.good {
			if g == sh {
				return true
			}
		}
		return false
	}
	out := map[int]*repairTarget{}
	for _, sh := range in.Shares {
		i, ok := p[sh]
		if !ok {
			continue
		}
		t := ts[i]
		if holdsGood(t, sh) {
			continue
		}
		if t.corrupt[sh] || t.readOnly {
			best := -1
			for j, u := range ts {
				if u.readOnly || u.corrupt[sh] || holdsGood(u, sh) {
					continue
				}
				if best < 0 || load[j] < load[best] {
					best = j
				}
			}
			if best < 0 {
				continue
			}
			load[i]--
			load[best]++
			t = ts[best]
		}
		out[sh] = t
	}
	return out
}

// repairAbortTimeout bounds the abort of an unfinished rebuilt share.
const repairAbortTimeout = 10 * time.Second

// repairWriter streams one rebuilt share to one server.
type repairWriter struct {
	srv    Server
	si     storage.StorageIndex
	shnum  int
	secret []byte
	batch
}

func (w *repairWriter) abort(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairAbortTimeout)
	defer cancel()
	_ = w.srv.Storage.AbortUpload(actx, w.si, w.shnum, w.secret)
}

// allocateRepair allocates the planned shares on their servers, in
// parallel. Shares a server turns out to hold already count as placed.
func (c *Client) allocateRepair(ctx context.Context, si storage.StorageIndex, alloc uint64, plan map[int]*repairTarget) (map[int]*repairWriter, map[int]string, error) {
	perServer := map[*repairTarget][]int{}
	for sh, t := range plan {
		perServer[t] = append(perServer[t], sh)
	}
	var mu sync.Mutex
	writers := map[int]*repairWriter{}
	placed := map[int]string{}
	var errs []error
	var wg sync.WaitGroup
	for t, shares := range perServer {
		sort.Ints(shares)
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			qctx, cancel := context.WithTimeout(ctx, c.timeout())
			defer cancel()
			ar, err := t.srv.Storage.AllocateBuckets(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(t.srv)), secret, shares, alloc)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("allocating shares %v on %s: %w", shares, t.srv.ID, err))
				return
			}
			for _, sh := range ar.Allocated {
				writers[sh] = &repairWriter{srv: t.srv, si: si, shnum: sh, secret: secret}
			}
			for _, sh := range ar.AlreadyHave {
				placed[sh] = t.srv.ID
			}
		}()
	}
	wg.Wait()
	return writers, placed, errors.Join(errs...)
}

// repairSink receives rebuilt shares, batches them and writes each batch
// from a goroutine per server.
type repairSink struct {
	ctx     context.Context
	c       *Client
	writers map[int]*repairWriter
	chunk   int
	queues  map[string]chan repairJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	failed  map[int]error
}

type repairJob struct {
	w    *repairWriter
	off  uint64
	data []byte
}

func newRepairSink(ctx context.Context, writers map[int]*repairWriter, chunk int, c *Client) *repairSink {
	s := &repairSink{ctx: ctx, c: c, writers: writers, chunk: chunk, queues: map[string]chan repairJob{}, failed: map[int]error{}}
	for _, w := range writers {
		if _, ok := s.queues[w.srv.ID]; ok {
			continue
		}
		q := make(chan repairJob, 4)
		s.queues[w.srv.ID] = q
		s.wg.Add(1)
		go s.serve(q)
	}
	return s
}

func (s *repairSink) serve(q chan repairJob) {
	defer s.wg.Done()
	for job := range q {
		s.mu.Lock()
		broken := s.failed[job.w.shnum] != nil
		s.mu.Unlock()
		if broken {
			continue
		}
		wctx, cancel := context.WithTimeout(s.ctx, s.c.timeout())
		_, err := job.w.srv.Storage.WriteShareChunk(wctx, job.w.si, job.w.shnum, job.w.secret, job.off, job.data)
		cancel()
		if err != nil {
			s.mu.Lock()
			s.failed[job.w.shnum] = fmt.Errorf("writing share %d to %s: %w", job.w.shnum, job.w.srv.ID, err)
			s.mu.Unlock()
		}
	}
}

// WriteShare batches bytes of one share (written front to back).
func (s *repairSink) WriteShare(shnum int, off uint64, data []byte) error {
	w, ok := s.writers[shnum]
	if !ok {
		return nil
	}
	w.add(off, data, s.chunk, func() { s.flush(w) })
	return s.ctx.Err()
}

func (s *repairSink) flush(w *repairWriter) {
	if len(w.buf) == 0 {
		return
	}
	job := repairJob{w: w, off: w.bufOff, data: w.buf}
	w.buf = nil
	select {
	case s.queues[w.srv.ID] <- job:
	case <-s.ctx.Done():
	}
}

// finish sends what is left, waits for every server and returns the
// shares whose writes failed.
func (s *repairSink) finish() map[int]error {
	for _, w := range s.writers {
		s.flush(w)
	}
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
	if err := s.ctx.Err(); err != nil {
		for sh := range s.writers {
			if s.failed[sh] == nil {
				s.failed[sh] = err
			}
		}
	}
	return s.failed
}
