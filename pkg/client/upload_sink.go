package client

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/storage"
)

// shareWriter streams one share to one server.
type shareWriter struct {
	cd     *candidate
	si     storage.StorageIndex
	shnum  int
	secret []byte
	run    run // the bytes given and not yet sent
}

// run is a contiguous stretch of one share, kept as the encoder's own
// slices (never copied), with the release of each.
type run struct {
	off  uint64
	n    int
	bufs [][]byte
	rels []func()
}

// release gives every slice of the run back to the encoder.
func (r *run) release() {
	for _, rel := range r.rels {
		rel()
	}
	r.rels = nil
	r.bufs = nil
}

// vectorWriter is a storage.Server that takes one chunk in pieces without
// joining them, and keeps none of them once it returns (pkg/client/gbs
// sends them as one request body, pkg/storage/shares writes them in turn).
type vectorWriter interface {
	WriteShareChunkVec(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, data [][]byte) (storage.WriteResult, error)
}

// writeChunk writes the concatenation of data at off of a share as one
// chunk: vectored where the server can take it, else joined (one copy,
// which only servers wrapped by tests need).
func writeChunk(ctx context.Context, srv storage.Server, si storage.StorageIndex, shnum int, secret []byte, off uint64, data [][]byte) (storage.WriteResult, error) {
	if vw, ok := srv.(vectorWriter); ok {
		return vw.WriteShareChunkVec(ctx, si, shnum, secret, off, data)
	}
	if len(data) == 1 {
		return srv.WriteShareChunk(ctx, si, shnum, secret, off, data[0])
	}
	return srv.WriteShareChunk(ctx, si, shnum, secret, off, bytes.Join(data, nil))
}

// uploadSink receives the encoder's bytes without copying them (it is a
// chk.RetainingSink), gathers each share's adjacent blocks into chunks of
// about chunk bytes, and sends each chunk as one write from a few
// goroutines per server, so servers are written in parallel while the
// encoder runs ahead by a bounded amount (a few queued chunks per server:
// a full queue makes the encoder wait). The slices of a chunk go back to
// the encoder's pool only once its write has returned, and a storage
// server's write returns only once it no longer reads them. A server whose
// write fails has its other writes cancelled and is sent nothing more; the
// others carry on.
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

var _ chk.RetainingSink = (*uploadSink)(nil)

// serverQueue is one server's writes: a queue, and a context cancelled on
// the server's first failure.
type serverQueue struct {
	q      chan sendJob
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// DefaultChunkSize is the default size of the writes sent to servers
// (Client.ChunkSize). Each request costs the client and the server far
// more than its bytes do. Measured on 2 cores, 3-of-10 over 10 GBS server
// processes, CPU of client and servers per MiB put, with writesInFlight:
//
//	chunk, in flight   64 MiB put        256 MiB put       peak RSS (256)
//	1 MiB, 3           61-67 MiB/s 27.4  80-87 MiB/s 21.7  117-120 MiB
//	2 MiB, 2           71-81 MiB/s 24.2  85-91 MiB/s 20.4  121-127 MiB
//	2 MiB, 3           70-80 MiB/s 24.5  95-99 MiB/s 19.4  120-149 MiB
//
// 2 MiB with 3 in flight came too close to the 150 MiB bound on peak RSS.
const DefaultChunkSize = 2 << 20

const (
	// writesInFlight is how many chunk writes each server has at once
	// (see DefaultChunkSize).
	writesInFlight = 2
	// queuedWrites is how many more chunks wait for each server; with
	// writesInFlight it bounds the encoder's segments the sink holds.
	queuedWrites = 1
)

type sendJob struct {
	w   *shareWriter
	run run
}

func newUploadSink(ctx context.Context, writers map[int]*shareWriter, chunk int, timeout time.Duration, fail func(*candidate, error)) *uploadSink {
	s := &uploadSink{ctx: ctx, writers: writers, chunk: chunk, timeout: timeout, fail: fail, servers: map[*candidate]*serverQueue{}, done: map[int]bool{}}
	for _, w := range writers {
		if _, ok := s.servers[w.cd]; ok {
			continue
		}
		sctx, cancel := context.WithCancelCause(ctx)
		sq := &serverQueue{q: make(chan sendJob, queuedWrites), ctx: sctx, cancel: cancel}
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
			job.run.release() // this server failed, or the upload stopped
			continue
		}
		w := job.w
		wctx, cancel := context.WithTimeout(sq.ctx, s.timeout)
		res, err := writeChunk(wctx, cd.srv.Storage, w.si, w.shnum, w.secret, job.run.off, job.run.bufs)
		cancel()
		job.run.release()
		if err != nil {
			if s.ctx.Err() != nil {
				continue // the whole upload stopped: not this server's fault
			}
			sq.cancel(err)
			s.fail(cd, fmt.Errorf("writing share %d: %w", w.shnum, err))
			continue
		}
		if res.Complete {
			s.mu.Lock()
			s.done[w.shnum] = true
			s.mu.Unlock()
		}
	}
}

// broken reports whether the server of w has failed.
func (s *uploadSink) broken(w *shareWriter) bool {
	return s.servers[w.cd].ctx.Err() != nil
}

// WriteShareRetained implements chk.RetainingSink: data joins its share's
// pending run (shares are written front to back, so a run is contiguous)
// and is released once written, or at once when it is not to be sent (a
// share kept elsewhere, or a server that failed).
func (s *uploadSink) WriteShareRetained(shnum int, off uint64, data []byte, release func()) error {
	w, ok := s.writers[shnum]
	if !ok || s.broken(w) {
		release()
		return s.ctx.Err()
	}
	if w.run.n > 0 && w.run.off+uint64(w.run.n) != off {
		s.flush(w)
	}
	if w.run.n == 0 {
		w.run.off = off
	}
	w.run.bufs = append(w.run.bufs, data)
	w.run.rels = append(w.run.rels, release)
	w.run.n += len(data)
	if w.run.n >= s.chunk {
		s.flush(w)
	}
	return s.ctx.Err()
}

// WriteShare implements chk.Sink for encoders that do not hand over their
// slices: data is copied.
func (s *uploadSink) WriteShare(shnum int, off uint64, data []byte) error {
	return s.WriteShareRetained(shnum, off, bytes.Clone(data), func() {})
}

// flush queues w's pending run as one write (waiting for room, which is
// how the sink holds the encoder back).
func (s *uploadSink) flush(w *shareWriter) {
	if w.run.n == 0 {
		return
	}
	job := sendJob{w: w, run: w.run}
	w.run = run{}
	sq := s.servers[w.cd]
	select {
	case sq.q <- job:
	case <-sq.ctx.Done():
		job.run.release()
	}
}

// finish sends what is left and waits for every server; every slice the
// sink was given has been released when it returns.
func (s *uploadSink) finish() error {
	for _, w := range s.writers {
		if s.ctx.Err() == nil {
			s.flush(w)
		} else {
			w.run.release()
			w.run = run{}
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
