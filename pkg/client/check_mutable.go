package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/happiness"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/storage"
)

// maxMutableShareRead bounds how much of one mutable share a check reads.
const maxMutableShareRead = 1 << 30

// mutableShareOn is one mutable share found on one server.
type mutableShareOn struct {
	srv   Server
	share *mutable.Share
}

// mutableMap is what a check learned of a mutable file: every share that
// parsed and verified, by version, and the shares that did not.
type mutableMap struct {
	responding []string
	versions   map[string][]mutableShareOn // VersionID → shares
	bad        []health.ShareLocator
}

// mutableFile returns the mutable file cap behind a file or directory cap
// (write, read or verify).
func mutableFile(cp *caps.Cap) (*caps.Cap, error) {
	if cp.IsDirectory() {
		return caps.FileOf(cp)
	}
	return cp, nil
}

// mapMutable reads every share of a mutable file from every server at once
// (each server under its own timeout) and checks each: signature and
// chains from its headers alone (as Tahoe's checker does), and with verify
// the whole share and every block. A share that fails is read and checked
// once more before it is called bad, so that one caught half rewritten by
// a concurrent writer (a torn read) is not taken for corruption.
func (c *Client) mapMutable(ctx context.Context, fc *caps.Cap, o CheckOptions) (*mutableMap, error) {
	si, err := toSI(fc.StorageIndex)
	if err != nil {
		return nil, err
	}
	servers := Permuted(c.Servers, fc.StorageIndex)
	m := &mutableMap{versions: map[string][]mutableShareOn{}}
	type found struct {
		share *mutable.Share
		num   int
		err   error
	}
	check := func(qctx context.Context, s Server, n int) (sh *mutable.Share, read bool, err error) {
		if o.Verify {
			var b []byte
			if b, err = s.Storage.ReadMutableShareChunk(qctx, si, n, 0, maxMutableShareRead); err != nil {
				return nil, false, err
			}
			sh, err = mutable.ParseShare(n, b)
		} else {
			sh, err = mutable.ReadHeaders(qctx, s.Storage, si, n)
			if err != nil && !errors.Is(err, mutable.ErrCorrupt) {
				return nil, false, err
			}
		}
		if err == nil {
			err = sh.Verify(fc)
		}
		if err == nil && o.Verify {
			err = sh.VerifyBlocks()
		}
		return sh, true, err
	}
	rs := forEachServer(ctx, c, servers, func(qctx context.Context, s Server) ([]found, error) {
		if o.AddLease {
			if err := s.Storage.AddOrRenewLease(qctx, si, LeaseSecrets(c.LeaseSecret, si[:], leaseSeedOf(s))); err != nil && !errors.Is(err, storage.ErrNotFound) {
				c.logger().Debug("add-lease failed", "server", s.ID, "err", err)
			}
		}
		nums, err := s.Storage.ListMutableShares(qctx, si)
		if err != nil {
			return nil, err
		}
		var got []found
		for _, n := range nums {
			sh, read, err := check(qctx, s, n)
			if !read {
				continue // a read failure is not corruption
			}
			if err != nil {
				// A second look: a share rewritten meanwhile reads
				// whole now.
				if sh2, read2, err2 := check(qctx, s, n); read2 {
					sh, err = sh2, err2
				}
			}
			got = append(got, found{sh, n, err})
		}
		return got, nil
	})
	for i, r := range rs {
		s := servers[i]
		if r.Err != nil {
			c.logger().Debug("server did not answer", "server", s.ID, "err", r.Err)
			continue
		}
		m.responding = append(m.responding, s.ID)
		for _, f := range r.Value {
			if f.err != nil {
				m.bad = append(m.bad, health.ShareLocator{Server: s.ID, StorageIndex: fc.StorageIndex, Share: f.num})
				if o.Verify {
					actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout())
					_ = s.Storage.AdviseCorruptMutableShare(actx, si, f.num, f.err.Error())
					cancel()
				}
				continue
			}
			id := f.share.VersionID()
			m.versions[id] = append(m.versions[id], mutableShareOn{srv: s, share: f.share})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// versionSummary is Tahoe's summarize_version: "seq4-abcd".
func versionSummary(s *mutable.Share) string {
	return fmt.Sprintf("seq%d-%s", s.Seqnum, caps.Base32Encode(s.RootHash)[:4])
}

// distinctShares counts the share numbers of a version.
func distinctShares(ss []mutableShareOn) int {
	seen := map[int]bool{}
	for _, s := range ss {
		seen[s.share.Num] = true
	}
	return len(seen)
}

// shortName is Tahoe's short server name: 8 characters of the id.
func shortName(id string) string {
	s := strings.TrimPrefix(id, "v0-")
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// results applies Tahoe's mutable checker rules: healthy when there is
// exactly one recoverable version, no unrecoverable one, and the best
// version has all N shares.
func (m *mutableMap) results(fc *caps.Cap, verify bool) *health.Results {
	var recoverable, unrecoverable []string
	for id, ss := range m.versions {
		if distinctShares(ss) >= ss[0].share.Needed {
			recoverable = append(recoverable, id)
		} else {
			unrecoverable = append(unrecoverable, id)
		}
	}
	sort.Strings(unrecoverable)
	r := &health.Results{StorageIndex: fc.StorageIndex, ServersResponding: append([]string{}, m.responding...),
		Recoverable: len(recoverable) > 0, RecoverableVersions: len(recoverable), UnrecoverableVersions: len(unrecoverable)}
	healthy := true
	var summary []string
	if len(unrecoverable) > 0 {
		healthy = false
		summary = append(summary, "some versions are unrecoverable")
	}
	if len(recoverable) == 0 {
		healthy = false
		summary = append(summary, "no versions are recoverable")
	}
	if len(recoverable) > 1 {
		healthy = false
		summary = append(summary, "multiple versions are recoverable")
	}
	count := func(id string) {
		ss := m.versions[id]
		r.SharesGood = distinctShares(ss)
		r.SharesNeeded, r.SharesExpected = ss[0].share.Needed, ss[0].share.Total
		hosts := map[string]bool{}
		for _, s := range ss {
			hosts[s.srv.ID] = true
		}
		r.GoodShareHosts = len(hosts)
		for other, os := range m.versions {
			if other != id {
				r.WrongShares += len(os)
			}
		}
	}
	switch {
	case len(recoverable) > 0:
		best := m.best(recoverable)
		count(best)
		if r.SharesGood < r.SharesExpected {
			healthy = false
			summary = append(summary, fmt.Sprintf("%d shares (enc %d-of-%d)", r.SharesGood, r.SharesNeeded, r.SharesExpected))
		}
	case len(unrecoverable) > 0:
		healthy = false
		count(unrecoverable[0])
	default:
		r.SharesNeeded, r.SharesExpected = 3, 10 // Tahoe's arbitrary defaults
	}
	if verify && len(m.bad) > 0 {
		r.CorruptShares = append([]health.ShareLocator(nil), m.bad...)
		summary = append(summary, "Corrupt Shares:")
		for _, l := range r.CorruptShares {
			summary = append(summary, fmt.Sprintf("%s-sh%d", shortName(l.Server), l.Share))
		}
	}
	r.Sharemap = map[string][]string{}
	holdings := map[string][]int{}
	ids := map[string]int{}
	for _, ss := range m.versions {
		for _, s := range ss {
			key := fmt.Sprintf("%s-sh%d", versionSummary(s.share), s.share.Num)
			r.Sharemap[key] = append(r.Sharemap[key], s.srv.ID)
			if _, ok := ids[key]; !ok && len(ids) <= happiness.MaxShare {
				ids[key] = len(ids)
			}
			if n, ok := ids[key]; ok {
				holdings[s.srv.ID] = append(holdings[s.srv.ID], n)
			}
		}
	}
	r.Happiness = happiness.Measure(holdings)
	r.Healthy = healthy
	if healthy {
		r.Summary = "Healthy"
	} else {
		r.Summary = "Unhealthy: " + strings.Join(summary, " ")
	}
	r.Normalize()
	return r
}

// best is Tahoe's best recoverable version: highest sequence number, then
// highest root hash.
func (m *mutableMap) best(recoverable []string) string {
	var best string
	var bs *mutable.Share
	for _, id := range recoverable {
		s := m.versions[id][0].share
		if bs == nil || s.Seqnum > bs.Seqnum || s.Seqnum == bs.Seqnum && bytes.Compare(s.RootHash, bs.RootHash) > 0 ||
			s.Seqnum == bs.Seqnum && bytes.Equal(s.RootHash, bs.RootHash) && id > best {
			best, bs = id, s
		}
	}
	return best
}

func (c *Client) checkMutable(ctx context.Context, cp *caps.Cap, o CheckOptions) (*health.Results, error) {
	fc, err := mutableFile(cp)
	if err != nil {
		return nil, err
	}
	m, err := c.mapMutable(ctx, fc, o)
	if err != nil {
		return nil, err
	}
	return m.results(fc, o.Verify), nil
}

// checkAndRepairMutable checks a mutable file or directory and, when it is
// not healthy and the cap can write, republishes its newest recoverable
// version as a new version on every share (Tahoe's mutable repair). Every
// share write is a test-and-set against the version read, so a concurrent
// writer's update is never overwritten: the repair fails instead. A
// read-only cap cannot repair (Tahoe's #625): no repair is attempted.
func (c *Client) checkAndRepairMutable(ctx context.Context, cp *caps.Cap, o CheckOptions) (*health.CheckAndRepair, error) {
	fc, err := mutableFile(cp)
	if err != nil {
		return nil, err
	}
	m, err := c.mapMutable(ctx, fc, o)
	if err != nil {
		return nil, err
	}
	pre := m.results(fc, o.Verify)
	out := &health.CheckAndRepair{StorageIndex: pre.StorageIndex, Pre: pre, Post: pre}
	needRepair := !pre.Healthy || len(m.bad) > 0
	if !needRepair || fc.IsReadOnly() {
		return out, nil
	}
	out.RepairAttempted = true
	if err := c.republish(ctx, fc); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.logger().Debug("mutable repair failed", "si", pre.StorageIndexString(), "err", err)
		out.RepairError = err.Error()
	}
	post, err := c.checkMutable(ctx, fc, CheckOptions{Verify: o.Verify})
	if err != nil {
		return nil, err
	}
	out.Post = post
	out.RepairSuccessful = out.RepairError == "" && post.Healthy
	return out, nil
}

// republish reads the newest recoverable version and writes it again as a
// new version on all N shares.
func (c *Client) republish(ctx context.Context, fc *caps.Cap) error {
	var buf bytes.Buffer
	if err := c.Download(ctx, fc, &buf, nil); err != nil {
		return fmt.Errorf("reading the newest version: %w", err)
	}
	if err := c.OverwriteMutable(ctx, fc, buf.Bytes()); err != nil {
		return fmt.Errorf("republishing: %w", err)
	}
	return nil
}
