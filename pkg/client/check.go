package client

import (
	"context"
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

// CheckOptions tune Check and CheckAndRepair.
type CheckOptions = health.CheckOptions

// ErrNotCheckable means the cap names nothing a checker can look at (an
// unknown cap).
var ErrNotCheckable = errors.New("cannot check this kind of cap")

// verifyParallel bounds the shares being verified at once.
const verifyParallel = 8

// shareOn reads one share from one server, each read bounded by timeout.
type shareOn struct {
	srv     Server
	si      storage.StorageIndex
	shnum   int
	timeout time.Duration
}

func (s shareOn) ReadAt(ctx context.Context, off, n uint64) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.srv.Storage.ReadShareChunk(rctx, s.si, s.shnum, off, n)
}

// serverShares is what one server said, or showed, about its shares.
type serverShares struct {
	srv          Server
	responded    bool
	verified     []int // good shares (claimed, or verified with Verify)
	corrupt      []int
	incompatible []int
}

// Check looks at the shares of the object cp names (a file or directory,
// through any of its caps: write, read or verify) and reports which
// servers hold which shares, their happiness and whether the object is
// healthy by Tahoe's rules. A LIT object has nothing on the grid and is
// healthy. With o.Verify every share is read in full and checked; corrupt
// shares are named in the results and reported to their servers.
func (c *Client) Check(ctx context.Context, cp *caps.Cap, o CheckOptions) (*health.Results, error) {
	switch cp.Kind {
	case caps.KindLIT, caps.KindDIR2LIT:
		return health.Literal(), nil
	case caps.KindCHK, caps.KindCHKVerifier, caps.KindDIR2CHK, caps.KindDIR2CHKVerifier:
		return c.checkImmutable(ctx, cp, o)
	}
	if cp.IsUnknown() {
		return nil, fmt.Errorf("%w: %s", ErrNotCheckable, cp.Kind)
	}
	return c.checkMutable(ctx, cp, o)
}

// immutableFile returns the CHK verify cap behind an immutable file or
// directory cap.
func immutableFile(cp *caps.Cap) (*caps.Cap, error) {
	f := cp
	if cp.IsDirectory() {
		var err error
		if f, err = caps.FileOf(cp); err != nil {
			return nil, err
		}
	}
	if v := f.Verifier(); v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotCheckable, cp.Kind)
}

func (c *Client) checkImmutable(ctx context.Context, cp *caps.Cap, o CheckOptions) (*health.Results, error) {
	vc, err := immutableFile(cp)
	if err != nil {
		return nil, err
	}
	si, err := toSI(vc.StorageIndex)
	if err != nil {
		return nil, err
	}
	servers := Permuted(c.Servers, vc.StorageIndex)
	found := make([]serverShares, len(servers))
	rs := forEachServer(ctx, c, servers, func(qctx context.Context, s Server) ([]int, error) {
		if o.AddLease {
			// Servers without shares answer "not found"; Tahoe ignores
			// add-lease failures too.
			if err := s.Storage.AddOrRenewLease(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(s))); err != nil && !errors.Is(err, storage.ErrNotFound) {
				c.logger().Debug("add-lease failed", "server", s.ID, "err", err)
			}
		}
		return s.Storage.ListShares(qctx, si)
	})
	for i, r := range rs {
		found[i].srv = servers[i]
		if r.Err != nil {
			c.logger().Debug("server did not answer", "server", servers[i].ID, "err", r.Err)
			continue
		}
		found[i].responded, found[i].verified = true, r.Value
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Verify {
		if err := c.verifyAll(ctx, vc, si, found); err != nil {
			return nil, err
		}
	}
	return immutableResults(vc, found), nil
}

// verifyAll reads and checks every share the servers claimed, a few at a
// time, and sorts them into good, corrupt and incompatible. Corrupt shares
// are reported to their servers.
func (c *Client) verifyAll(ctx context.Context, vc *caps.Cap, si storage.StorageIndex, found []serverShares) error {
	type job struct{ server, shnum int }
	var jobs []job
	for i := range found {
		for _, sh := range found[i].verified {
			jobs = append(jobs, job{i, sh})
		}
	}
	verdicts := make([]error, len(jobs))
	sem := make(chan struct{}, verifyParallel)
	var wg sync.WaitGroup
	for j, jb := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := shareOn{srv: found[jb.server].srv, si: si, shnum: jb.shnum, timeout: c.timeout()}
			_, verdicts[j] = chk.VerifyShare(ctx, vc, jb.shnum, r)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range found {
		found[i].verified = nil
	}
	for j, jb := range jobs {
		f := &found[jb.server]
		switch err := verdicts[j]; {
		case err == nil:
			f.verified = append(f.verified, jb.shnum)
		case errors.Is(err, chk.ErrIncompatible):
			f.incompatible = append(f.incompatible, jb.shnum)
		case errors.Is(err, chk.ErrCorrupt):
			f.corrupt = append(f.corrupt, jb.shnum)
			c.logger().Debug("corrupt share", "server", f.srv.ID, "share", jb.shnum, "err", err)
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout())
			_ = f.srv.Storage.AdviseCorruptShare(actx, si, jb.shnum, err.Error())
			cancel()
		default:
			// The server failed mid-way: the share is neither good nor
			// known to be bad (Tahoe's "disconnect" or "failure").
			c.logger().Debug("share could not be read", "server", f.srv.ID, "share", jb.shnum, "err", err)
		}
	}
	return nil
}

// immutableResults applies Tahoe's rules: healthy when all N share
// numbers are good, recoverable when at least k are.
func immutableResults(vc *caps.Cap, found []serverShares) *health.Results {
	r := &health.Results{
		StorageIndex: vc.StorageIndex, SharesNeeded: vc.Needed, SharesExpected: vc.Total,
		ServersResponding: []string{},
	}
	sharemap := map[int][]string{}
	holdings := map[string][]int{}
	for _, f := range found {
		if f.responded {
			r.ServersResponding = append(r.ServersResponding, f.srv.ID)
		}
		if len(f.verified) > 0 {
			r.GoodShareHosts++
			holdings[f.srv.ID] = append(holdings[f.srv.ID], f.verified...)
		}
		for _, sh := range f.verified {
			sharemap[sh] = append(sharemap[sh], f.srv.ID)
		}
		for _, sh := range f.corrupt {
			r.CorruptShares = append(r.CorruptShares, health.ShareLocator{Server: f.srv.ID, StorageIndex: vc.StorageIndex, Share: sh})
		}
		for _, sh := range f.incompatible {
			r.IncompatibleShares = append(r.IncompatibleShares, health.ShareLocator{Server: f.srv.ID, StorageIndex: vc.StorageIndex, Share: sh})
		}
	}
	r.Sharemap = health.NumberedSharemap(sharemap)
	finishImmutable(r, holdings)
	return r
}

// finishImmutable fills the counters and verdict from the sharemap.
func finishImmutable(r *health.Results, holdings map[string][]int) {
	r.SharesGood = len(r.Sharemap)
	r.Happiness = happiness.Measure(holdings)
	r.Healthy = r.SharesGood >= r.SharesExpected
	r.Recoverable = r.SharesGood >= r.SharesNeeded
	if r.Recoverable {
		r.RecoverableVersions, r.UnrecoverableVersions = 1, 0
	} else {
		r.RecoverableVersions, r.UnrecoverableVersions = 0, 1
	}
	if r.Healthy {
		r.Summary = "Healthy"
	} else {
		r.Summary = fmt.Sprintf("Not Healthy: %d shares (enc %d-of-%d)", r.SharesGood, r.SharesNeeded, r.SharesExpected)
	}
	r.Normalize()
}

// sortedShares returns the share numbers of a share → servers map in order.
func sortedShares(m map[int][]string) []int {
	out := make([]int, 0, len(m))
	for sh := range m {
		out = append(out, sh)
	}
	sort.Ints(out)
	return out
}
