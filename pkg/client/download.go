package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/storage"
)

// serverShare reads one share from one server.
type serverShare struct {
	srv     Server
	si      storage.StorageIndex
	shnum   int
	timeout time.Duration
}

// ReadAt reads a range, giving up on a server that does not answer in
// time (the decoder then uses another share).
func (s serverShare) ReadAt(ctx context.Context, off, n uint64) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.srv.Storage.ReadShareChunk(rctx, s.si, s.shnum, off, n)
}

// Locate asks every server, in permuted order and all at once, which shares
// of the storage index it holds, each under the query timeout. Each share
// number maps to the first server (in permuted order) holding it.
func (c *Client) Locate(ctx context.Context, si []byte) (map[int]Server, error) {
	where, _, err := c.locate(ctx, si, 0)
	return where, err
}

// locate is Locate that stops waiting, after the grace, once need distinct
// shares are located (need 0: wait for every server). It also returns
// the failures of the servers that did not answer.
func (c *Client) locate(ctx context.Context, si []byte, need int) (map[int]Server, []error, error) {
	ssi, err := toSI(si)
	if err != nil {
		return nil, nil, err
	}
	servers := Permuted(c.Servers, si)
	var enough func([]fanout.Result[[]int]) bool
	if need > 0 {
		enough = func(rs []fanout.Result[[]int]) bool {
			seen := map[int]bool{}
			for _, r := range rs {
				for _, sh := range r.Value {
					seen[sh] = true
				}
			}
			return len(seen) >= need
		}
	}
	rs := fanout.Ask(ctx, len(servers), fanout.Options{Timeout: c.timeout(), Grace: c.grace()}, func(ctx context.Context, i int) ([]int, error) {
		return servers[i].Storage.ListShares(ctx, ssi)
	}, enough)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	out := map[int]Server{}
	var failed []error
	for i, r := range rs {
		if r.Err != nil {
			c.logger().Debug("server did not answer", "server", servers[i].ID, "err", r.Err)
			failed = append(failed, fmt.Errorf("server %s: %w", servers[i].ID, r.Err))
			continue
		}
		for _, sh := range r.Value {
			if _, ok := out[sh]; !ok {
				out[sh] = servers[i]
			}
		}
	}
	return out, failed, nil
}

// Download writes the file of cap cp to w, verifying everything; onBad is
// told about shares that were rejected (nil to ignore). Callers write to a
// temporary place and keep it only when Download returns nil.
func (c *Client) Download(ctx context.Context, cp *caps.Cap, w io.Writer, onBad func(shnum int, server string, err error)) error {
	switch cp.Kind {
	case caps.KindLIT:
		_, err := w.Write(cp.Data)
		return err
	case caps.KindCHK:
	case caps.KindSSK, caps.KindSSKRO, caps.KindMDMF, caps.KindMDMFRO:
		servers := Permuted(c.Servers, cp.StorageIndex)
		ss := make([]storage.Server, len(servers))
		for i, s := range servers {
			ss[i] = s.Storage
		}
		return mutable.RetrieveWith(ctx, cp, ss, w, c.mutableOptions(func(sh int, err error) {
			if onBad != nil {
				onBad(sh, "", err)
			}
		}))
	default:
		return fmt.Errorf("a %s cap is not a file that can be downloaded", cp.Kind)
	}
	where, failed, err := c.locate(ctx, cp.StorageIndex, cp.Needed)
	if err != nil {
		return err
	}
	ssi, _ := toSI(cp.StorageIndex)
	readers := map[int]chk.ShareReader{}
	for sh, srv := range where {
		readers[sh] = serverShare{srv: srv, si: ssi, shnum: sh, timeout: c.transferTimeout()}
	}
	// Corruption is advised to the servers after the decode, all at once,
	// so a slow server's advisory never stalls the fetch pipeline (the
	// decoder calls OnBadShare from its fetcher).
	type advisory struct {
		sh     int
		reason string
	}
	var advise []advisory
	opts := chk.DecodeOptions{OnBadShare: func(sh int, err error) {
		id := where[sh].ID
		c.logger().Debug("share rejected", "share", sh, "server", id, "err", err)
		if onBad != nil {
			onBad(sh, id, err)
		}
		if errors.Is(err, chk.ErrCorrupt) {
			advise = append(advise, advisory{sh, err.Error()})
		}
	}}
	err = chk.Decode(ctx, cp, readers, w, opts)
	if len(advise) > 0 {
		fanout.Ask(context.WithoutCancel(ctx), len(advise), fanout.Options{Timeout: c.timeout()}, func(actx context.Context, i int) (struct{}, error) {
			a := advise[i]
			return struct{}{}, where[a.sh].Storage.AdviseCorruptShare(actx, ssi, a.sh, a.reason)
		}, nil)
	}
	if err != nil {
		if len(where) == 0 && len(failed) > 0 {
			// Say why rather than "no server holds a share": the first
			// failure stands for the others (a backend outage, say).
			return fmt.Errorf("%w (%d of %d servers failed to answer; %v)", err, len(failed), len(c.Servers), failed[0])
		}
		if len(where) == 0 {
			return fmt.Errorf("%w (no server of %d holds a share of storage index %s)", err, len(c.Servers), caps.Base32Encode(cp.StorageIndex))
		}
		return err
	}
	return nil
}
