package mutable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// maxShareRead bounds how much of one mutable share Retrieve reads.
const maxShareRead = 1 << 30

// Retrieve is RetrieveWith with the default Options and onBad.
func Retrieve(ctx context.Context, c *caps.Cap, servers []storage.Server, w io.Writer, onBad func(shnum int, err error)) error {
	return RetrieveWith(ctx, c, servers, w, Options{OnBad: onBad})
}

// RetrieveWith finds the shares of a mutable file on the given servers,
// picks the newest version with k good shares and writes its plaintext to
// w. Directory caps read their underlying file. The servers, in the
// order given (permuted by the storage index), are asked for their shares'
// first bytes (the whole share when it is small), each under o.Timeout:
// the first 2k at once, more only when their answers do not settle which
// version is the newest readable one as Tahoe's MODE_READ would (see
// readPlan), or when one is slower than o.Grace; servers not asked are
// not contacted. Among the first o.Total (where an upload puts the
// shares), servers already connected are asked first. Meanwhile the rest of k shares of the newest version is
// read, and more shares only when some fail their checks. A share that
// fails a check is read again: when it changed meanwhile (a writer
// replacing it in place, ErrTorn) it is not advised corrupt. When no
// version could be read the servers are asked once more, all of them at
// once, before giving up. Nothing is written to w unless the whole file
// decodes.
func RetrieveWith(ctx context.Context, c *caps.Cap, servers []storage.Server, w io.Writer, o Options) error {
	switch c.Kind {
	case caps.KindSSK, caps.KindSSKRO, caps.KindMDMF, caps.KindMDMFRO,
		caps.KindDIR2, caps.KindDIR2RO, caps.KindDIR2MDMF, caps.KindDIR2MDMFRO:
	default:
		return fmt.Errorf("a %s cap is not a readable mutable file", c.Kind)
	}
	if c.ReadKey == nil {
		return fmt.Errorf("a %s cap cannot read the file's contents", c.Kind)
	}
	var si storage.StorageIndex
	copy(si[:], c.StorageIndex)
	for attempt := 0; ; attempt++ {
		mode, order := mapRead, preferWarm(servers, o.total())
		if attempt > 0 {
			mode, order = mapReadAll, servers
		}
		r := &retrieval{c: c, si: si, servers: order, o: o, bad: map[int]error{}, mode: mode}
		err := r.run(ctx, w)
		if err == nil || attempt > 0 || !(r.mayRetry() || r.narrow) {
			return err
		}
	}
}

// retrieval is one pass of RetrieveWith over one servermap.
type retrieval struct {
	c       *caps.Cap
	si      storage.StorageIndex
	servers []storage.Server
	o       Options
	bad     map[int]error // shares rejected as corrupt, for the error
	torn    int           // shares that changed while read
	rounds  int           // how many versions the map held
	found   bool          // whether any share was found
	mode    mapMode
	narrow  bool // the map left some servers unasked
}

// mayRetry says whether a failed pass met something a second look may
// resolve: a share that changed under it, several versions, or shares that
// failed their checks.
func (r *retrieval) mayRetry() bool {
	return r.found && (r.torn > 0 || r.rounds > 1 || len(r.bad) > 0)
}

func (r *retrieval) run(ctx context.Context, w io.Writer) error {
	report := r.o
	report.OnBad = func(n int, err error) {
		if errors.Is(err, ErrTorn) {
			r.torn++
		} else {
			r.bad[n] = err
		}
		r.o.bad(n, err)
	}
	m, err := mapServers(ctx, r.si, r.servers, report, r.mode)
	if err != nil {
		return fmt.Errorf("retrieving mutable file: %w", err)
	}
	defer m.close()
	r.narrow = m.asked < len(r.servers)
	best, needed := 0, 0
	vs := m.versions()
	r.rounds, r.found = len(vs), len(vs) > 0 || m.bad > 0
	for _, v := range vs {
		if needed == 0 {
			needed = v.needed
		}
		if v.distinctNums() < v.needed {
			if v.distinctNums() > best {
				best = v.distinctNums()
			}
			continue
		}
		good, err := readVersion(ctx, r.c, r.si, r.servers, v, w, report)
		if err == nil {
			return nil
		}
		var ne *NotEnoughSharesError
		if !errors.As(err, &ne) {
			return err
		}
		best = max(best, good)
	}
	answered := 0
	for _, a := range m.answered {
		if a {
			answered++
		}
	}
	if needed == 0 {
		needed = r.c.Needed
	}
	return &NotEnoughSharesError{Found: best, Needed: needed, Bad: r.bad, Servers: len(r.servers), Answered: answered}
}

// readVersion decodes one version from k of its shares: those the
// servermap already read whole first, then those it started reading, then
// the rest, reading more of the version's shares only while some fail. A
// share that fails a check is judged (torn or corrupt). It returns the
// most good shares it had at once.
func readVersion(ctx context.Context, c *caps.Cap, si storage.StorageIndex, servers []storage.Server, v *version, w io.Writer, o Options) (int, error) {
	// One copy of each share number first (cheapest first), then the
	// other copies.
	cost := func(l *located) int {
		switch {
		case l.whole:
			return 0
		case l.pre != nil:
			return 1
		}
		return 2
	}
	ordered := append([]*located(nil), v.shares...)
	sort.SliceStable(ordered, func(a, b int) bool { return cost(ordered[a]) < cost(ordered[b]) })
	var queue, copies []*located
	seen := map[int]bool{}
	for _, l := range ordered {
		if seen[l.num] {
			copies = append(copies, l)
			continue
		}
		seen[l.num] = true
		queue = append(queue, l)
	}
	queue = append(queue, copies...)
	var shares []*Share
	from := map[*Share]*located{}
	best := 0
	for {
		// Take what is missing for k distinct shares, and every share
		// already in hand (it costs nothing).
		have := map[int]bool{}
		for _, s := range shares {
			have[s.Num] = true
		}
		var batch, rest []*located
		want := v.needed - len(have)
		for _, l := range queue {
			switch {
			case have[l.num]:
				rest = append(rest, l)
			case l.whole || want > 0:
				batch = append(batch, l)
				have[l.num] = true
				want--
			default:
				rest = append(rest, l)
			}
		}
		queue = rest
		if len(batch) == 0 {
			return best, &NotEnoughSharesError{Found: best, Needed: v.needed}
		}
		got, err := fetch(ctx, si, servers, batch, o, from)
		if err != nil {
			return best, fmt.Errorf("retrieving mutable file: %w", err)
		}
		shares = append(shares, got...)
		rejected := map[*Share]bool{}
		err = decode(c, shares, w, func(s *Share, err error) {
			rejected[s] = true
			o.bad(s.Num, judge(ctx, si, servers, from[s], err, o))
		})
		var ne *NotEnoughSharesError
		if !errors.As(err, &ne) {
			return best, err
		}
		kept := shares[:0]
		for _, s := range shares {
			if !rejected[s] {
				kept = append(kept, s)
			}
		}
		shares = kept
		best = max(best, distinctShares(shares))
	}
}

func distinctShares(ss []*Share) int {
	seen := map[int]bool{}
	for _, s := range ss {
		seen[s.Num] = true
	}
	return len(seen)
}
