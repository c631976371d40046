package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/storage"
)

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
	// Placement maps share number to the id of the server holding it. A
	// share whose server failed during the upload, when the others were
	// still happy, is absent.
	Placement map[int]string
	Uploaded  int // shares written
	Kept      int // shares already on the grid, leases renewed
}

// Upload stores size bytes read from src and returns the cap. src is read
// once for the convergent key and once to encrypt; a server that fails
// while shares are written is dropped, and when the others no longer reach
// servers-of-happiness only the missing shares are placed again, which
// reads src once more. progress, when set, is told how many bytes of the
// file have been encoded in the first encoding pass; its calls never
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
	u := &upload{c: c, src: src, size: size, key: key, si: si, alloc: alloc, placed: map[int]*candidate{}}
	u.cands = c.query(ctx, Permuted(c.Servers, siBytes), si, alloc)
	for {
		placement, happy := planFor(u.cands, c.Encoding.Total)
		if happy < c.Encoding.Happy {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, u.unhappy(happy)
		}
		prog := progress
		if u.cap != nil {
			prog = nil // the file was encoded once already
		}
		failed, busy, err := u.round(ctx, placement, prog)
		if err != nil {
			return nil, err
		}
		for _, cd := range failed {
			u.drop(cd)
		}
		replan := false
		if len(busy) > 0 {
			if replan, err = u.awaitBusy(ctx, busy); err != nil {
				return nil, err
			}
		}
		h := u.happiness()
		if u.cap != nil && h >= c.Encoding.Happy {
			return u.result(), nil
		}
		if len(failed) == 0 && !replan {
			return nil, u.unhappy(h) // a plan that was happy, placed unhappily
		}
		// The survivors are not happy: plan again for the shares that are
		// missing (the ones already written count as held).
		c.logger().Debug("servers failed during upload; placing the missing shares again", "failed", len(failed))
	}
}

// upload is the state of one Upload across its passes.
type upload struct {
	c        *Client
	src      io.ReaderAt
	size     uint64
	key      []byte
	si       storage.StorageIndex
	alloc    uint64
	cands    []*candidate
	cap      *caps.Cap
	placed   map[int]*candidate // shares on live servers: kept or written
	uploaded int
	kept     int
	failures []string
	// busyUntil is when the upload stops waiting for shares other
	// uploads are writing (set when it first meets one).
	busyUntil time.Time
}

// candidate is a server's state during one upload.
type candidate struct {
	srv      Server
	ok       bool // answered, and has not failed since
	readOnly bool
	// stuck: the server kept a share busy (another upload writing it)
	// past the busy wait, so it is planned as read-only from then on; it
	// is not reported as read-only.
	stuck    bool
	existing []int
	err      error
}

// query asks every server, at once, for its space and existing shares.
func (c *Client) query(ctx context.Context, servers []Server, si storage.StorageIndex, alloc uint64) []*candidate {
	type answer struct {
		v      storage.Version
		shares []int
	}
	rs := forEachServer(ctx, c, servers, func(ctx context.Context, s Server) (answer, error) {
		v, err := s.Storage.Version(ctx)
		if err != nil {
			return answer{}, err
		}
		shares, err := s.Storage.ListShares(ctx, si)
		return answer{v, shares}, err
	})
	cands := make([]*candidate, len(servers))
	for i, r := range rs {
		cd := &candidate{srv: servers[i], err: r.Err}
		if r.Err == nil {
			v := r.Value.v
			cd.ok = true
			cd.existing = r.Value.shares
			cd.readOnly = v.AvailableSpace < alloc || (v.MaximumImmutableShareSize != 0 && v.MaximumImmutableShareSize < alloc)
		} else {
			c.logger().Debug("server did not answer", "server", servers[i].ID, "err", r.Err)
		}
		cands[i] = cd
	}
	return cands
}

// drop takes a server that failed out of the upload: it holds nothing we
// count and is offered nothing more.
func (u *upload) drop(cd *candidate) {
	cd.ok = false
	for sh, at := range u.placed {
		if at == cd {
			delete(u.placed, sh)
		}
	}
}

// happiness measures the shares actually placed.
func (u *upload) happiness() int {
	return measure(u.placed)
}

func measure(placed map[int]*candidate) int {
	servers := map[*candidate]bool{}
	for _, cd := range placed {
		servers[cd] = true
	}
	return len(servers)
}

func (u *upload) result() *UploadResult {
	res := &UploadResult{Cap: u.cap, Placement: map[int]string{}, Uploaded: u.uploaded, Kept: u.kept}
	for sh, cd := range u.placed {
		res.Placement[sh] = cd.srv.ID
	}
	res.Happiness = u.happiness()
	return res
}

func (u *upload) unhappy(happy int) error { return u.unhappyExcept(happy, nil) }

// unhappyExcept is the error of an upload that reaches only happy, not
// counting the servers in lost as reachable.
func (u *upload) unhappyExcept(happy int, lost map[*candidate]error) error {
	c := u.c
	e := &UnhappinessError{Happiness: happy, Happy: c.Encoding.Happy, Needed: c.Encoding.Needed, Total: c.Encoding.Total, Servers: len(u.cands), Failures: append([]string(nil), u.failures...)}
	for _, cd := range u.cands {
		if _, gone := lost[cd]; cd.ok && !gone {
			e.Reachable++
			if cd.readOnly && !cd.stuck {
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

// hold records that cd holds share sh.
func (cd *candidate) hold(sh int) {
	if !cd.holds(sh) {
		cd.existing = append(cd.existing, sh)
	}
}

// round places the shares of placement that are not placed yet: it renews
// leases on shares servers already hold, allocates and writes the rest by
// encoding the file once. It returns the servers that failed (already
// reported in u.failures) and the shares that were busy: a server with room
// that neither holds nor allocated a share is writing it for another upload
// of the same file right now, so the share is left to that upload (and
// awaitBusy asks again later) rather than counted as refused. A non-nil
// error aborts the upload. When a failure makes servers-of-happiness
// unreachable, the encode is stopped at once and the error is an
// *UnhappinessError.
func (u *upload) round(ctx context.Context, placement map[int]*candidate, progress func(int64)) ([]*candidate, map[*candidate][]int, error) {
	c := u.c
	var fmu sync.Mutex
	failed := map[*candidate]error{}
	// failLocked records a failure; it reports false for a server that
	// had already failed. fmu is held.
	failLocked := func(cd *candidate, err error) bool {
		if _, dup := failed[cd]; dup {
			return false
		}
		failed[cd] = err
		u.failures = append(u.failures, fmt.Sprintf("server %s failed: %v", shortID(cd.srv.ID), err))
		c.logger().Debug("server failed during upload", "server", cd.srv.ID, "err", err)
		return true
	}
	fail := func(cd *candidate, err error) {
		fmu.Lock()
		defer fmu.Unlock()
		failLocked(cd, err)
	}
	keep := map[*candidate][]int{}
	send := map[*candidate][]int{}
	for sh, cd := range placement {
		switch {
		case u.placed[sh] != nil:
			// Placed by an earlier pass: nothing to do.
		case cd.holds(sh):
			keep[cd] = append(keep[cd], sh)
		default:
			send[cd] = append(send[cd], sh)
		}
	}

	// Renew leases on kept shares and allocate the others, all at once.
	type job struct {
		cd     *candidate
		shares []int
		renew  bool
	}
	var jobs []job
	for cd, shares := range keep {
		jobs = append(jobs, job{cd, shares, true})
	}
	for cd, shares := range send {
		sort.Ints(shares)
		jobs = append(jobs, job{cd, shares, false})
	}
	type allocated struct {
		secret []byte
		ar     storage.AllocateResult
	}
	rs := fanout.Ask(ctx, len(jobs), fanout.Options{Timeout: c.timeout()}, func(ctx context.Context, i int) (allocated, error) {
		j := jobs[i]
		lease := LeaseSecrets(c.LeaseSecret, u.si[:], leaseSeedOf(j.cd.srv))
		if j.renew {
			if err := j.cd.srv.Storage.AddOrRenewLease(ctx, u.si, lease); err != nil {
				return allocated{}, fmt.Errorf("renewing lease: %w", err)
			}
			return allocated{}, nil
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return allocated{}, err
		}
		ar, err := j.cd.srv.Storage.AllocateBuckets(ctx, u.si, lease, secret, j.shares, u.alloc)
		if err != nil {
			return allocated{}, fmt.Errorf("allocating: %w", err)
		}
		return allocated{secret, ar}, nil
	}, nil)
	if err := ctx.Err(); err != nil {
		// Give back what was allocated before the cancel: an open
		// allocation would leave its shares busy for the next upload.
		got := map[int]*shareWriter{}
		for i, r := range rs {
			if j := jobs[i]; r.Err == nil && !j.renew {
				for _, sh := range r.Value.ar.Allocated {
					got[sh] = &shareWriter{cd: j.cd, si: u.si, shnum: sh, secret: r.Value.secret}
				}
			}
		}
		u.abort(ctx, got, nil)
		return nil, nil, err
	}
	writers := map[int]*shareWriter{}
	kept := map[int]*candidate{}
	busy := map[*candidate][]int{}
	for i, r := range rs {
		j := jobs[i]
		if r.Err != nil {
			fail(j.cd, r.Err)
			continue
		}
		if j.renew {
			for _, sh := range j.shares {
				kept[sh] = j.cd
			}
			continue
		}
		isAllocated := map[int]bool{}
		for _, sh := range r.Value.ar.Allocated {
			isAllocated[sh] = true
		}
		have := map[int]bool{}
		for _, sh := range r.Value.ar.AlreadyHave {
			have[sh] = true
		}
		for _, sh := range j.shares {
			switch {
			case isAllocated[sh]:
				writers[sh] = &shareWriter{cd: j.cd, si: u.si, shnum: sh, secret: r.Value.secret}
			case have[sh]:
				// Another upload finished it meanwhile: keep it.
				kept[sh] = j.cd
			default:
				// Busy: another upload is writing it (a server without
				// room was planned read-only; awaitBusy tells the two
				// apart should room have run out since).
				busy[j.cd] = append(busy[j.cd], sh)
			}
		}
	}
	if len(failed) > 0 {
		// Nothing is encoded yet: give the allocations back and plan again.
		u.abort(ctx, writers, nil)
		return keys(failed), nil, nil
	}
	for sh, cd := range kept {
		u.placed[sh] = cd
		cd.hold(sh)
		u.kept++
	}
	if len(writers) == 0 && u.cap != nil {
		return nil, busy, nil
	}

	// Encode once. A server that fails has its own writes cancelled; the
	// encode goes on for the others unless happiness is out of reach.
	ectx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	onFail := func(cd *candidate, err error) {
		fmu.Lock()
		defer fmu.Unlock()
		if !failLocked(cd, err) {
			return
		}
		if h := u.reachable(placement, failed); h < c.Encoding.Happy {
			stop(u.unhappyExcept(h, failed))
		}
	}
	sink := newUploadSink(ectx, writers, c.chunkSize(), c.transferTimeout(), onFail)
	var reader io.ReaderAt = u.src
	if progress != nil {
		var mu sync.Mutex
		var counted int64
		reader = progressReader{u.src, func(n int) {
			mu.Lock()
			defer mu.Unlock()
			counted += int64(n)
			progress(counted)
		}}
	}
	r, err := chk.EncodeWithKey(ectx, reader, u.size, u.key, c.params(), sink)
	if ferr := sink.finish(); err == nil {
		err = ferr
	}
	if err != nil {
		u.abort(ctx, writers, sink.completed())
		var ue *UnhappinessError
		if cause := context.Cause(ectx); errors.As(cause, &ue) {
			return nil, nil, ue
		}
		return nil, nil, err
	}
	if u.cap == nil {
		u.cap = r.Cap
	} else if u.cap.String() != r.Cap.String() {
		return nil, nil, fmt.Errorf("internal error: the second encoding pass made cap %s, the first %s", r.Cap, u.cap)
	}
	done := sink.completed()
	for sh, w := range writers {
		if _, isBad := failed[w.cd]; isBad {
			continue
		}
		if !done[sh] {
			// A writer that saw no error but did not complete the share.
			onFail(w.cd, fmt.Errorf("share %d incomplete after the last write", sh))
			continue
		}
		u.placed[sh] = w.cd
		w.cd.hold(sh)
		u.uploaded++
	}
	u.abort(ctx, writers, done)
	for cd := range failed {
		delete(busy, cd)
	}
	return keys(failed), busy, nil
}

// Busy shares are asked about again after a back-off that starts at
// busyFirstDelay and doubles up to busyMaxDelay.
const (
	busyFirstDelay = 10 * time.Millisecond
	busyMaxDelay   = 500 * time.Millisecond
)

// awaitBusy asks the servers about the shares another upload was writing
// there until each is settled: complete (held: it counts toward
// happiness, its lease renewed by the asking), or free again (that upload
// gave up: the next round writes it), or the server has run out of room
// (it is read-only from now on). When the shares placed are already happy
// it asks once and does not wait for the rest. It waits at most the
// client's busy wait over the whole upload, and never past ctx's deadline;
// a share still busy then leaves its server planned as read-only. It
// reports whether the upload must plan again.
func (u *upload) awaitBusy(ctx context.Context, busy map[*candidate][]int) (bool, error) {
	c := u.c
	if u.busyUntil.IsZero() {
		u.busyUntil = time.Now().Add(c.busyWait())
	}
	deadline := u.busyUntil
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	replan := false
	delay := busyFirstDelay
	for {
		if u.reask(ctx, busy) {
			replan = true
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if len(busy) == 0 || (u.cap != nil && u.happiness() >= c.Encoding.Happy) {
			return replan, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			for cd, shares := range busy {
				cd.readOnly, cd.stuck = true, true
				u.failures = append(u.failures, fmt.Sprintf("server %s: share(s) %v still being written by another upload after %v", shortID(cd.srv.ID), shares, c.busyWait()))
			}
			return true, nil
		}
		t := time.NewTimer(min(delay, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, busyMaxDelay)
	}
}

// reask asks every server with busy shares about them once, all at once,
// and settles what it can: busy keeps only the shares still busy. It
// reports whether a share was freed, a server failed or ran out of room.
func (u *upload) reask(ctx context.Context, busy map[*candidate][]int) bool {
	c := u.c
	var cds []*candidate
	for cd := range busy {
		cds = append(cds, cd)
	}
	type answer struct {
		ar     storage.AllocateResult
		secret []byte
		full   bool
	}
	rs := fanout.Ask(ctx, len(cds), fanout.Options{Timeout: c.timeout()}, func(ctx context.Context, i int) (answer, error) {
		cd := cds[i]
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return answer{}, err
		}
		lease := LeaseSecrets(c.LeaseSecret, u.si[:], leaseSeedOf(cd.srv))
		ar, err := cd.srv.Storage.AllocateBuckets(ctx, u.si, lease, secret, busy[cd], u.alloc)
		if err != nil {
			return answer{}, fmt.Errorf("allocating: %w", err)
		}
		a := answer{ar: ar, secret: secret}
		if len(ar.Allocated) > 0 {
			// That upload gave up: the share is free. Give it back; the
			// next round allocates and writes it.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout())
			for _, sh := range ar.Allocated {
				_ = cd.srv.Storage.AbortUpload(actx, u.si, sh, secret)
			}
			cancel()
		}
		if len(ar.Allocated)+len(ar.AlreadyHave) < len(busy[cd]) {
			v, err := cd.srv.Storage.Version(ctx)
			if err != nil {
				return answer{}, err
			}
			a.full = v.AvailableSpace < u.alloc || (v.MaximumImmutableShareSize != 0 && v.MaximumImmutableShareSize < u.alloc)
		}
		return a, nil
	}, nil)
	changed := false
	for i, r := range rs {
		cd := cds[i]
		if ctx.Err() != nil {
			return changed
		}
		if r.Err != nil {
			u.failures = append(u.failures, fmt.Sprintf("server %s failed: %v", shortID(cd.srv.ID), r.Err))
			c.logger().Debug("server failed during upload", "server", cd.srv.ID, "err", r.Err)
			delete(busy, cd)
			u.drop(cd)
			changed = true
			continue
		}
		have, freed := map[int]bool{}, map[int]bool{}
		for _, sh := range r.Value.ar.AlreadyHave {
			have[sh] = true
		}
		for _, sh := range r.Value.ar.Allocated {
			freed[sh] = true
		}
		var still []int
		for _, sh := range busy[cd] {
			switch {
			case have[sh]:
				// Complete now: held, and the allocation renewed its lease.
				u.placed[sh] = cd
				cd.hold(sh)
				u.kept++
			case freed[sh]:
				changed = true
			default:
				still = append(still, sh)
			}
		}
		if len(still) > 0 && r.Value.full {
			cd.readOnly = true // out of room since the query: not busy
			still = nil
			changed = true
		}
		if len(still) == 0 {
			delete(busy, cd)
		} else {
			busy[cd] = still
		}
	}
	return changed
}

// reachable is the happiness the upload could still reach without the lost
// servers: the shares already placed and those being written to live
// servers count as held, and every other live server can take a share.
func (u *upload) reachable(placement map[int]*candidate, lost map[*candidate]error) int {
	var live []*candidate
	for _, cd := range u.cands {
		if _, gone := lost[cd]; gone || !cd.ok {
			continue
		}
		hyp := &candidate{srv: cd.srv, ok: true, readOnly: cd.readOnly, existing: append([]int(nil), cd.existing...)}
		for sh, at := range placement {
			if at == cd {
				hyp.existing = append(hyp.existing, sh)
			}
		}
		live = append(live, hyp)
	}
	_, h := planFor(live, u.c.Encoding.Total)
	return h
}

// abort gives back every unfinished allocation, at once.
func (u *upload) abort(ctx context.Context, writers map[int]*shareWriter, done map[int]bool) {
	var ws []*shareWriter
	for sh, w := range writers {
		if !done[sh] {
			ws = append(ws, w)
		}
	}
	actx := context.WithoutCancel(ctx)
	fanout.Ask(actx, len(ws), fanout.Options{Timeout: u.c.timeout()}, func(ctx context.Context, i int) (struct{}, error) {
		w := ws[i]
		return struct{}{}, w.cd.srv.Storage.AbortUpload(ctx, w.si, w.shnum, w.secret)
	}, nil)
}

func keys(m map[*candidate]error) []*candidate {
	out := make([]*candidate, 0, len(m))
	for cd := range m {
		out = append(out, cd)
	}
	return out
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
