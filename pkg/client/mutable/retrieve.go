package mutable

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/storage"
)

// maxShareRead bounds how much of one mutable share Retrieve reads.
const maxShareRead = 1 << 30

// spares is how many shares beyond k a read fetches at first, so that one
// bad share costs no second round trip.
const spares = 2

// Retrieve is RetrieveWith with the default Options and onBad.
func Retrieve(ctx context.Context, c *caps.Cap, servers []storage.Server, w io.Writer, onBad func(shnum int, err error)) error {
	return RetrieveWith(ctx, c, servers, w, Options{OnBad: onBad})
}

// RetrieveWith finds the shares of a mutable file on the given servers,
// picks the newest version with k good shares and writes its plaintext to
// w. Directory caps read their underlying file. The servers are asked at
// once, each under o.Timeout, and the search stops (after o.Grace) once
// the newest version seen has k shares; then k shares of it plus a couple
// of spares are read whole, and more only when some fail their checks.
// Nothing is written to w unless the whole file decodes.
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
	// Every rejection is reported once, and kept for the error.
	bad := map[int]error{}
	report := o
	report.OnBad = func(n int, err error) {
		bad[n] = err
		o.bad(n, err)
	}
	m, err := mapServers(ctx, si, servers, report, true)
	if err != nil {
		return fmt.Errorf("retrieving mutable file: %w", err)
	}
	best, needed := 0, 0
	for _, v := range m.versions() {
		if needed == 0 {
			needed = v.needed
		}
		if v.distinctNums() < v.needed {
			if v.distinctNums() > best {
				best = v.distinctNums()
			}
			continue
		}
		good, err := readVersion(ctx, c, si, servers, v, w, report)
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
		needed = c.Needed
	}
	return &NotEnoughSharesError{Found: best, Needed: needed, Bad: bad, Servers: len(servers), Answered: answered}
}

// readVersion reads k (plus spares) shares of one version whole and decodes
// them, reading more of the version's shares while some fail; a share that
// fails a check is advised corrupt to its server. It returns the most good
// shares it had at once.
func readVersion(ctx context.Context, c *caps.Cap, si storage.StorageIndex, servers []storage.Server, v *version, w io.Writer, o Options) (int, error) {
	// One copy of each share number first, then the other copies.
	var queue []*located
	seen := map[int]bool{}
	for _, l := range v.shares {
		if !seen[l.num] {
			seen[l.num] = true
			queue = append(queue, l)
		}
	}
	for _, l := range v.shares {
		if !containsLocated(queue, l) {
			queue = append(queue, l)
		}
	}
	var shares []*Share
	from := map[*Share]*located{}
	want := v.needed + spares // the first read; then only what is missing
	best := 0
	for {
		var batch []*located
		for len(queue) > 0 && len(batch) < want {
			batch, queue = append(batch, queue[0]), queue[1:]
		}
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
			o.bad(s.Num, err)
			advise(ctx, si, servers, from[s], err, o)
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
		want = max(1, v.needed-distinctShares(shares))
	}
}

func containsLocated(ls []*located, l *located) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func distinctShares(ss []*Share) int {
	seen := map[int]bool{}
	for _, s := range ss {
		seen[s.Num] = true
	}
	return len(seen)
}
