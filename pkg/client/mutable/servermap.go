package mutable

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
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
// with the version, and for small files (most directories) the whole share,
// so that they cost one round trip.
const prefixRead = 4096

// located is one share found on one server, from its first bytes.
type located struct {
	server int
	num    int
	raw    []byte // what was read: the whole share when whole
	whole  bool
	signed string // the signed header: the version's identity
	seqnum uint64
	root   []byte
	needed int
}

// serverMap is what the servers said: every share located (in server
// order) and which servers answered.
type serverMap struct {
	shares   []*located
	answered []bool
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
	var signedLen, kAt int
	switch raw[0] {
	case VersionSDMF:
		signedLen, kAt = sdmfSignedLen, 1+8+32+saltSize
	case VersionMDMF:
		signedLen, kAt = mdmfSignedLen, 1+8+32
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

// mapServers asks every server at once which shares of si it holds and
// reads the first bytes of each, every server under o's timeout. For a
// read it stops waiting, after the grace, once the newest version seen has
// k shares; for a write it hears every server out (each still bounded by
// the timeout), since every share must be replaced.
func mapServers(ctx context.Context, si storage.StorageIndex, servers []storage.Server, o Options, forRead bool) (*serverMap, error) {
	type answer struct {
		shares []*located
		bad    map[int]error
	}
	var enough func([]fanout.Result[answer]) bool
	if forRead {
		enough = func(rs []fanout.Result[answer]) bool {
			m := &serverMap{}
			for _, r := range rs {
				m.shares = append(m.shares, r.Value.shares...)
			}
			vs := m.versions()
			return len(vs) > 0 && vs[0].distinctNums() >= vs[0].needed
		}
	}
	rs := fanout.Ask(ctx, len(servers), fanout.Options{Timeout: o.timeout(), Grace: o.grace()}, func(ctx context.Context, i int) (answer, error) {
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
	}, enough)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &serverMap{answered: make([]bool, len(servers))}
	for i, r := range rs {
		if r.Err != nil {
			continue // an unreachable server holds nothing we can use
		}
		m.answered[i] = true
		m.shares = append(m.shares, r.Value.shares...)
		for n, err := range r.Value.bad {
			o.bad(n, err)
		}
	}
	return m, nil
}

// fetch reads the whole of each located share that is not whole yet, all at
// once, and parses them; from records where each came from. Shares that
// fail to read or parse are reported and left out, and a share that does
// not parse is advised corrupt to its server.
func fetch(ctx context.Context, si storage.StorageIndex, servers []storage.Server, ls []*located, o Options, from map[*Share]*located) ([]*Share, error) {
	rs := fanout.Ask(ctx, len(ls), fanout.Options{Timeout: o.transferTimeout()}, func(ctx context.Context, i int) ([]byte, error) {
		l := ls[i]
		if l.whole {
			return l.raw, nil
		}
		return servers[l.server].ReadMutableShareChunk(ctx, si, l.num, 0, maxShareRead)
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
		l.raw, l.whole = r.Value, true
		s, err := ParseShare(l.num, r.Value)
		if err != nil {
			err = fmt.Errorf("share %d: %w", l.num, err)
			o.bad(l.num, err)
			advise(ctx, si, servers, l, err, o)
			continue
		}
		if from != nil {
			from[s] = l
		}
		out = append(out, s)
	}
	return out, nil
}

// advise tells a share's server that the share is corrupt, when err says
// so, as Tahoe's retrieve does. It is best effort and bounded by the query
// timeout.
func advise(ctx context.Context, si storage.StorageIndex, servers []storage.Server, l *located, err error, o Options) {
	if l == nil || !errors.Is(err, ErrCorrupt) {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeout())
	defer cancel()
	_ = servers[l.server].AdviseCorruptMutableShare(actx, si, l.num, err.Error())
}
