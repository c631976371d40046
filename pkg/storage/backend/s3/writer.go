package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// unsignedPayload sends container bodies without a SHA-256 of the payload
// in the signature (the headers are still signed): computing it would read
// every spooled byte once more before sending it, and Tahoe's shares are
// self-verifying (clients check every block against the hash trees).
func unsignedPayload(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// writer spools a created or edited container. A created container whose
// size hint is over PartSize is sent as a multipart upload whose parts go
// out as soon as each is wholly written, while the rest of the share
// arrives; Commit then sends only what is left (the last part) and the
// completion, with If-None-Match: *.
type writer struct {
	b    *Backend
	key  string
	f    *os.File
	edit bool
	etag string // of the edited object

	mu        sync.Mutex
	size      int64
	committed bool
	closed    bool

	eager *eagerParts // nil: the whole container is sent at Commit
}

// eagerParts is the state of a created container's multipart upload.
type eagerParts struct {
	ctx    context.Context // outlives the creating request; ended by Close
	cancel context.CancelFunc
	psize  int64
	wg     sync.WaitGroup // part uploads in flight
	sem    chan struct{}  // bounds them

	mu    sync.Mutex
	id    *string // the upload, once created
	parts map[int]*part
}

// part is one part of an eager upload. version counts the writes into
// it; an upload is good for the version it started at.
type part struct {
	spans     []span // bytes written, relative to the part, merged
	version   int
	inflight  bool
	etag      *string
	uploadedV int
}

type span struct{ begin, end int64 }

func (p *part) add(b, e int64) {
	p.spans = append(p.spans, span{b, e})
	slices.SortFunc(p.spans, func(x, y span) int { return int(x.begin - y.begin) })
	merged := p.spans[:1]
	for _, s := range p.spans[1:] {
		last := &merged[len(merged)-1]
		if s.begin <= last.end {
			last.end = max(last.end, s.end)
		} else {
			merged = append(merged, s)
		}
	}
	p.spans = merged
}

func (p *part) full(size int64) bool {
	return len(p.spans) == 1 && p.spans[0].begin == 0 && p.spans[0].end >= size
}

func (p *part) clean() bool { return p.etag != nil && p.uploadedV == p.version }

func (b *Backend) newWriter(ctx context.Context, key string, f *os.File, sizeHint int64) *writer {
	w := &writer{b: b, key: key, f: f}
	if sizeHint > b.cfg.PartSize {
		ectx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		w.eager = &eagerParts{ctx: ectx, cancel: cancel, psize: b.cfg.PartSize, sem: make(chan struct{}, 2), parts: map[int]*part{}}
	}
	return w
}

func (w *writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

func (w *writer) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	size, closed := w.size, w.closed
	w.mu.Unlock()
	if closed {
		return 0, backend.ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= size {
		return 0, io.EOF
	}
	n, err := w.f.ReadAt(p[:min(int64(len(p)), size-off)], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("s3: read spool: %w", err)
	}
	return eof(n, len(p))
}

func (w *writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := backend.CheckWriteAt(w.closed || w.committed, off); err != nil {
		return 0, err
	}
	if end := off + int64(len(p)); end > w.b.cfg.MaxContainerSize || end < off {
		return 0, fmt.Errorf("s3: container would grow to %d bytes, over the %d-byte limit: %w", end, w.b.cfg.MaxContainerSize, storage.ErrTooLarge)
	}
	n, err := w.f.WriteAt(p, off)
	if end := off + int64(n); end > w.size {
		w.size = end
	}
	if w.eager != nil && n > 0 {
		w.eager.wrote(w, off, off+int64(n))
	}
	if err != nil {
		return n, fmt.Errorf("s3: write spool: %w", err)
	}
	return n, nil
}

// wrote records a write of [b, e) and starts the uploads of the parts it
// completes.
func (e *eagerParts) wrote(w *writer, b, end int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := int(b / e.psize); int64(k)*e.psize < end; k++ {
		pb := int64(k) * e.psize
		p := e.parts[k]
		if p == nil {
			p = &part{}
			e.parts[k] = p
		}
		p.add(max(b, pb)-pb, min(end, pb+e.psize)-pb)
		p.version++
		if !p.inflight && p.full(e.psize) {
			p.inflight = true
			e.wg.Add(1)
			go e.upload(w, k, p.version)
		}
	}
}

// upload sends part k as it was at version v (in the background).
func (e *eagerParts) upload(w *writer, k, v int) {
	defer e.wg.Done()
	select {
	case e.sem <- struct{}{}:
		defer func() { <-e.sem }()
	case <-e.ctx.Done():
		e.finished(k, v, nil)
		return
	}
	etag, err := e.send(w, e.ctx, k, e.psize)
	if err != nil {
		etag = nil // Commit sends it again
	}
	e.finished(k, v, etag)
}

func (e *eagerParts) finished(k, v int, etag *string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.parts[k]
	p.inflight = false
	if etag != nil {
		p.etag, p.uploadedV = etag, v
	}
}

// uploadID creates the multipart upload on first use.
func (e *eagerParts) uploadID(w *writer, ctx context.Context) (*string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.id != nil {
		return e.id, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Not cancelled half way: an upload the service made but we never
	// heard of could not be aborted.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.b.cfg.RequestTimeout)
	defer cancel()
	out, err := w.b.client.CreateMultipartUpload(cctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(w.b.cfg.Bucket), Key: aws.String(w.key)})
	if err != nil {
		return nil, w.b.wrap("start multipart upload", w.key, err)
	}
	e.id = out.UploadId
	return e.id, nil
}

// send uploads part k (n bytes) from the spool.
func (e *eagerParts) send(w *writer, ctx context.Context, k int, n int64) (*string, error) {
	id, err := e.uploadID(w, ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, w.b.cfg.RequestTimeout)
	defer cancel()
	out, err := w.b.client.UploadPart(rctx, &awss3.UploadPartInput{
		Bucket: aws.String(w.b.cfg.Bucket), Key: aws.String(w.key), UploadId: id,
		PartNumber:    aws.Int32(int32(k + 1)),
		Body:          io.NewSectionReader(w.f, int64(k)*e.psize, n),
		ContentLength: aws.Int64(n),
	}, unsignedPayload)
	if err != nil {
		return nil, w.b.wrap(fmt.Sprintf("upload part %d", k+1), w.key, err)
	}
	return out.ETag, nil
}

// abort ends the multipart upload, if one was started (even when the
// caller's context is done; bounded so a dead service cannot hold it).
func (e *eagerParts) abort(w *writer) {
	e.mu.Lock()
	id := e.id
	e.id = nil
	e.parts = map[int]*part{}
	e.mu.Unlock()
	if id == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = w.b.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(w.b.cfg.Bucket), Key: aws.String(w.key), UploadId: id})
}

func (w *writer) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.committed {
		return fmt.Errorf("commit after commit or close: %w", backend.ErrClosed)
	}
	var err error
	switch {
	case w.eager != nil && w.size > w.b.cfg.PartSize:
		err = w.completeEager(ctx)
	case w.eager != nil:
		// Smaller than its hint: one PUT, and no upload left behind.
		w.eager.wg.Wait()
		w.eager.abort(w)
		err = w.put(ctx)
	case w.size > w.b.cfg.PartSize:
		err = w.putMultipart(ctx)
	default:
		err = w.put(ctx)
	}
	if err != nil {
		return err
	}
	w.committed = true
	return nil
}

// completeEager sends the parts not yet sent (or changed since) and
// completes the upload with If-None-Match: *.
func (w *writer) completeEager(ctx context.Context) error {
	e := w.eager
	e.wg.Wait()
	for attempt := 0; ; attempt++ {
		err := w.sendRemaining(ctx)
		if err == nil {
			err = w.complete(ctx)
		}
		if attempt == 0 && apiCode(err) == "NoSuchUpload" {
			// Aborted underneath (by AbortStaleUploads in another process,
			// say): start over once.
			e.mu.Lock()
			e.id, e.parts = nil, map[int]*part{}
			e.mu.Unlock()
			continue
		}
		return err
	}
}

func (w *writer) sendRemaining(ctx context.Context) error {
	e := w.eager
	nparts := int((w.size + e.psize - 1) / e.psize)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelParts)
	for k := 0; k < nparts; k++ {
		n := min(e.psize, w.size-int64(k)*e.psize)
		e.mu.Lock()
		p := e.parts[k]
		if p == nil {
			p = &part{}
			e.parts[k] = p
		}
		// The last part is sent now whatever its past: it may have grown.
		if p.clean() && (k < nparts-1 || n == e.psize) {
			e.mu.Unlock()
			continue
		}
		v := p.version
		e.mu.Unlock()
		g.Go(func() error {
			etag, err := e.send(w, gctx, k, n)
			if err != nil {
				return err
			}
			e.finished(k, v, etag)
			return nil
		})
	}
	return g.Wait()
}

func (w *writer) complete(ctx context.Context) error {
	e := w.eager
	e.mu.Lock()
	id := e.id
	var parts []types.CompletedPart
	for k := 0; int64(k)*e.psize < w.size; k++ {
		parts = append(parts, types.CompletedPart{ETag: e.parts[k].etag, PartNumber: aws.Int32(int32(k + 1))})
	}
	e.mu.Unlock()
	_, err := w.b.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.b.cfg.Bucket), Key: aws.String(w.key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     aws.String("*"),
	})
	switch {
	case err == nil:
		e.mu.Lock()
		e.id = nil // completed: nothing to abort
		e.mu.Unlock()
		return nil
	case isPreconditionFailed(err):
		return w.lost(err)
	case apiCode(err) == "NoSuchUpload":
		return err
	}
	return w.b.wrap("commit (complete multipart upload)", w.key, err)
}

// conditions returns the If-Match / If-None-Match of the commit.
func (w *writer) conditions() (ifMatch, ifNoneMatch *string) {
	if w.edit {
		return aws.String(w.etag), nil
	}
	return nil, aws.String("*")
}

// lost turns a failed condition into the backend's error.
func (w *writer) lost(err error) error {
	if w.edit {
		return fmt.Errorf("s3: commit %s: %w", w.key, backend.ErrConflict)
	}
	return fmt.Errorf("s3: commit %s: %w", w.key, backend.ErrExist)
}

func (w *writer) put(ctx context.Context) error {
	ifMatch, ifNoneMatch := w.conditions()
	_, err := w.b.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        aws.String(w.b.cfg.Bucket),
		Key:           aws.String(w.key),
		Body:          io.NewSectionReader(w.f, 0, w.size),
		ContentLength: aws.Int64(w.size),
		IfMatch:       ifMatch,
		IfNoneMatch:   ifNoneMatch,
	}, unsignedPayload)
	switch {
	case err == nil:
		return nil
	case isPreconditionFailed(err), w.edit && isNotFound(err):
		return w.lost(err)
	}
	return w.b.wrap("commit", w.key, err)
}

// putMultipart sends a large edited container (or a created one whose
// size was not hinted) whole at Commit, in parallel parts.
func (w *writer) putMultipart(ctx context.Context) error {
	bucket, key := aws.String(w.b.cfg.Bucket), aws.String(w.key)
	created, err := w.b.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		return w.b.wrap("commit (start multipart upload)", w.key, err)
	}
	id := created.UploadId
	completed := false
	defer func() {
		if completed {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = w.b.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id})
	}()

	psize := w.b.cfg.PartSize
	nparts := int((w.size + psize - 1) / psize)
	parts := make([]types.CompletedPart, nparts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelParts)
	for i := 0; i < nparts; i++ {
		g.Go(func() error {
			off := int64(i) * psize
			n := min(psize, w.size-off)
			num := aws.Int32(int32(i + 1))
			out, err := w.b.client.UploadPart(gctx, &awss3.UploadPartInput{
				Bucket: bucket, Key: key, UploadId: id, PartNumber: num,
				Body:          io.NewSectionReader(w.f, off, n),
				ContentLength: aws.Int64(n),
			}, unsignedPayload)
			if err != nil {
				return w.b.wrap(fmt.Sprintf("commit (part %d of %d)", i+1, nparts), w.key, err)
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: num}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	ifMatch, ifNoneMatch := w.conditions()
	_, err = w.b.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         ifMatch,
		IfNoneMatch:     ifNoneMatch,
	})
	switch {
	case err == nil:
		completed = true
		return nil
	case isPreconditionFailed(err), w.edit && isNotFound(err) && apiCode(err) != "NoSuchUpload":
		return w.lost(err)
	}
	return w.b.wrap("commit (complete multipart upload)", w.key, err)
}

// Close releases the writer: part uploads in flight are stopped and
// joined, and an uncommitted multipart upload is aborted.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if e := w.eager; e != nil {
		e.cancel()
		e.wg.Wait()
		if !w.committed {
			e.abort(w)
		}
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("s3: close spool: %w", err)
	}
	return nil
}
