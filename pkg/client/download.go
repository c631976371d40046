package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
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

// shareStreamer is a server that streams a share range into a writer (the
// GBS client), so a block lands in the decoder's buffer without a copy
// through a growing one.
type shareStreamer interface {
	ReadShareTo(ctx context.Context, w io.Writer, mutable bool, si storage.StorageIndex, shnum int, offset, length uint64) (int64, error)
}

// shareOpener is a server whose complete shares open for reads at an
// offset (an in-process store, with its cache of open handles).
type shareOpener interface {
	OpenShare(ctx context.Context, si storage.StorageIndex, shnum int, mutable bool) (storage.ShareData, error)
}

// ReadInto reads a range into p (chk.ShareReaderInto), so the decoder's
// buffers are reused from segment to segment; like ReadAt it gives up on a
// server that does not answer in time.
func (s serverShare) ReadInto(ctx context.Context, off uint64, p []byte) (int, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	switch st := s.srv.Storage.(type) {
	case shareStreamer:
		w := &sliceWriter{p: p}
		_, err := st.ReadShareTo(rctx, w, false, s.si, s.shnum, off, uint64(len(p)))
		return w.n, err
	case shareOpener:
		d, err := st.OpenShare(rctx, s.si, s.shnum, false)
		if err != nil {
			return 0, err
		}
		defer d.Close()
		n, err := d.ReadAt(p, int64(off))
		if err == io.EOF {
			err = nil // short at the end of the share
		}
		return n, err
	}
	b, err := s.srv.Storage.ReadShareChunk(rctx, s.si, s.shnum, off, uint64(len(p)))
	return copy(p, b), err
}

// sliceWriter fills a fixed slice; writing past its end is an error.
type sliceWriter struct {
	p []byte
	n int
}

func (w *sliceWriter) Write(b []byte) (int, error) {
	if len(b) > len(w.p)-w.n {
		return 0, fmt.Errorf("server sent more than the %d bytes asked for", len(w.p))
	}
	w.n += copy(w.p[w.n:], b)
	return len(b), nil
}

// ReadFrom reads r into the slice directly (io.Copy then needs no buffer
// of its own); more than fits is an error.
func (w *sliceWriter) ReadFrom(r io.Reader) (int64, error) {
	start := w.n
	for {
		if w.n == len(w.p) {
			var one [1]byte
			if n, _ := io.ReadFull(r, one[:]); n > 0 {
				return int64(w.n - start), fmt.Errorf("server sent more than the %d bytes asked for", len(w.p))
			}
			return int64(w.n - start), nil
		}
		n, err := r.Read(w.p[w.n:])
		w.n += n
		if err == io.EOF {
			return int64(w.n - start), nil
		}
		if err != nil {
			return int64(w.n - start), err
		}
	}
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
	// Read-ahead runs belong to this download: they stop and are joined
	// when it ends.
	actx, stopAhead := context.WithCancel(ctx)
	var ahead sync.WaitGroup
	defer func() { stopAhead(); ahead.Wait() }()
	readers := map[int]chk.ShareReader{}
	for sh, srv := range where {
		ss := serverShare{srv: srv, si: ssi, shnum: sh, timeout: c.transferTimeout()}
		if _, remote := srv.Storage.(shareStreamer); remote {
			readers[sh] = &aheadShare{serverShare: ss, ctx: actx, wg: &ahead, chunks: map[int]*aheadChunk{}, dataLen: shareData(cp)}
		} else {
			readers[sh] = ss
		}
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

// Read-ahead over the network: a block read asks for a run of blocks of
// about aheadBytes (at most maxAheadBlocks, at least one) in one request,
// and the next run is asked for while this one is used, so a download makes
// a few large requests per share instead of one per block, and each
// share's next blocks are on their way while the current ones are checked
// and decoded. Each request costs the server and the client far more than
// its bytes do (a 64 MiB get over 10 GBS servers took 10 ms of CPU per MiB
// with runs of 8 blocks, about 350 KiB, and 8.4 with runs of 2 MiB).
const (
	aheadBytes     = 2 << 20
	maxAheadBlocks = 256
)

// shareData is the length of the block data of each share of cp's file:
// its k-th part, rounded up.
func shareData(cp *caps.Cap) uint64 {
	k := uint64(max(cp.Needed, 1))
	return (cp.Size + k - 1) / k
}

// aheadShare is a serverShare that reads blocks in runs. Runs are aligned
// on the first block read (the decoder reads the blocks of a share in
// order, each of the same length but the last), so every block falls in
// exactly one run. A run is dropped once each of its blocks has been
// read; at most two runs per share are in memory or on their way, besides
// those a failed share leaves behind.
type aheadShare struct {
	serverShare
	ctx context.Context // the download's: runs are read under it
	wg  *sync.WaitGroup // the download's: joins the runs' reads
	// dataLen bounds the share's block data, so a run of a small file's
	// share is no longer than the share.
	dataLen uint64

	mu     sync.Mutex
	base   uint64 // offset of the first block read
	bs     uint64 // block length (0 until the first block read)
	run    uint64 // blocks per run
	chunks map[int]*aheadChunk
	// free holds the buffers of runs read out, for the next runs (a
	// download reuses two buffers per share instead of allocating one per
	// run).
	free [][]byte
}

// aheadChunk is one run of blocks: read, or on its way.
type aheadChunk struct {
	done    chan struct{} // closed when b and err are set
	b       []byte
	err     error
	left    int // blocks not yet read out of it
	readers int // reads copying out of it now (a.mu)
}

// ReadInto reads one block into p from its run, asking for the run (and
// the next) when needed. Reads that do not fall on the block grid are
// passed straight to the server.
func (a *aheadShare) ReadInto(ctx context.Context, off uint64, p []byte) (int, error) {
	a.mu.Lock()
	if a.bs == 0 && len(p) > 0 {
		a.base, a.bs = off, uint64(len(p))
		a.run = max(min(aheadBytes/a.bs, maxAheadBlocks, (a.dataLen+a.bs-1)/a.bs), 1)
	}
	if off < a.base || (off-a.base)%a.bs != 0 || uint64(len(p)) > a.bs {
		a.mu.Unlock()
		return a.serverShare.ReadInto(ctx, off, p)
	}
	idx := int((off - a.base) / a.bs / a.run)
	c := a.start(idx)
	c.readers++
	a.start(idx + 1)
	a.mu.Unlock()

	var err error
	select {
	case <-c.done:
		err = c.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	n := 0
	if err == nil {
		at := off - a.base - uint64(idx)*a.run*a.bs
		if at < uint64(len(c.b)) {
			n = copy(p, c.b[at:])
		}
	}
	a.mu.Lock()
	c.readers--
	if c.left--; c.left == 0 && a.chunks[idx] == c {
		delete(a.chunks, idx)
	}
	if c.left <= 0 && c.readers == 0 {
		a.recycle(c)
	}
	a.mu.Unlock()
	return n, err
}

// recycle keeps the buffer of run c, read out and copied from by no one,
// for a later run (a.mu is held). A run still on its way (a read that gave
// up waiting for it) keeps its buffer.
func (a *aheadShare) recycle(c *aheadChunk) {
	select {
	case <-c.done:
	default:
		return
	}
	if b := c.b[:cap(c.b)]; c.b != nil && uint64(len(b)) == a.run*a.bs && len(a.free) < 2 {
		a.free = append(a.free, b)
	}
	c.b = nil
}

// start returns run idx, asking the server for it unless it is asked for
// already (a.mu is held).
func (a *aheadShare) start(idx int) *aheadChunk {
	if c := a.chunks[idx]; c != nil {
		return c
	}
	c := &aheadChunk{done: make(chan struct{}), left: int(a.run)}
	a.chunks[idx] = c
	off := a.base + uint64(idx)*a.run*a.bs
	var buf []byte
	if k := len(a.free); k > 0 {
		buf, a.free = a.free[k-1], a.free[:k-1]
	} else {
		buf = make([]byte, a.run*a.bs)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(c.done)
		n, err := a.serverShare.ReadInto(a.ctx, off, buf)
		c.b, c.err = buf[:n], err
	}()
	return c
}
