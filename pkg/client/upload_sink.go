package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/storage"
)

// shareWriter streams one share to one server.
type shareWriter struct {
	cd     *candidate
	si     storage.StorageIndex
	shnum  int
	secret []byte
	batch
}

// uploadSink receives the encoder's bytes, batches them per share and sends
// each batch to its server from a few goroutines per server, so servers are
// written in parallel while the encoder runs ahead by a bounded amount. A
// server whose write fails has its other writes cancelled and is sent
// nothing more; the others carry on.
type uploadSink struct {
	ctx     context.Context
	writers map[int]*shareWriter
	chunk   int
	timeout time.Duration // per write
	fail    func(*candidate, error)
	servers map[*candidate]*serverQueue
	wg      sync.WaitGroup
	mu      sync.Mutex
	done    map[int]bool // shares the server reported complete
}

// serverQueue is one server's writes: a queue, and a context cancelled on
// the server's first failure.
type serverQueue struct {
	q      chan sendJob
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// writesInFlight is how many chunk writes each server has at once.
const writesInFlight = 3

type sendJob struct {
	w    *shareWriter
	off  uint64
	data []byte
}

func newUploadSink(ctx context.Context, writers map[int]*shareWriter, chunk int, timeout time.Duration, fail func(*candidate, error)) *uploadSink {
	s := &uploadSink{ctx: ctx, writers: writers, chunk: chunk, timeout: timeout, fail: fail, servers: map[*candidate]*serverQueue{}, done: map[int]bool{}}
	for _, w := range writers {
		if _, ok := s.servers[w.cd]; ok {
			continue
		}
		sctx, cancel := context.WithCancelCause(ctx)
		sq := &serverQueue{q: make(chan sendJob, 4), ctx: sctx, cancel: cancel}
		s.servers[w.cd] = sq
		// A few writes in flight per server hide the round trips.
		for range writesInFlight {
			s.wg.Add(1)
			go s.serve(w.cd, sq)
		}
	}
	return s
}

func (s *uploadSink) serve(cd *candidate, sq *serverQueue) {
	defer s.wg.Done()
	for job := range sq.q {
		if sq.ctx.Err() != nil {
			continue // this server failed, or the upload stopped
		}
		wctx, cancel := context.WithTimeout(sq.ctx, s.timeout)
		res, err := cd.srv.Storage.WriteShareChunk(wctx, job.w.si, job.w.shnum, job.w.secret, job.off, job.data)
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				continue // the whole upload stopped: not this server's fault
			}
			sq.cancel(err)
			s.fail(cd, fmt.Errorf("writing share %d: %w", job.w.shnum, err))
			continue
		}
		if res.Complete {
			s.mu.Lock()
			s.done[job.w.shnum] = true
			s.mu.Unlock()
		}
	}
}

// broken reports whether the server of w has failed.
func (s *uploadSink) broken(w *shareWriter) bool {
	return s.servers[w.cd].ctx.Err() != nil
}

// WriteShare batches bytes; shares are written front to back, so a batch
// is always contiguous. Bytes for a server that failed are dropped.
func (s *uploadSink) WriteShare(shnum int, off uint64, data []byte) error {
	w, ok := s.writers[shnum]
	if !ok || s.broken(w) {
		return s.ctx.Err() // kept elsewhere, not in the plan, or lost
	}
	w.add(off, data, s.chunk, func() { s.flush(w) })
	return s.ctx.Err()
}

func (s *uploadSink) flush(w *shareWriter) {
	if len(w.buf) == 0 {
		return
	}
	job := sendJob{w: w, off: w.bufOff, data: w.buf}
	w.buf = nil
	sq := s.servers[w.cd]
	select {
	case sq.q <- job:
	case <-sq.ctx.Done():
	}
}

// finish sends what is left and waits for every server.
func (s *uploadSink) finish() error {
	if s.ctx.Err() == nil {
		for _, w := range s.writers {
			s.flush(w)
		}
	}
	for _, sq := range s.servers {
		close(sq.q)
	}
	s.wg.Wait()
	for _, sq := range s.servers {
		sq.cancel(nil)
	}
	return s.ctx.Err()
}

// completed returns the shares the servers reported complete; call it
// after finish.
func (s *uploadSink) completed() map[int]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]bool, len(s.done))
	for sh := range s.done {
		out[sh] = true
	}
	return out
}
