// Package gbsserver is the HTTP storage protocol server ("Great Black
// Swamp", docs/specifications/http-storage-node-protocol.rst) over any
// storage.Server: routing, swissnum authorization, secrets, bodies, status
// codes and content negotiation, and TLS serving (ServeTLS) with the
// node's certificate, which clients pin by its SPKI hash in the NURL.
//
// Servers that can stream implement the optional ChunkWriter and
// ShareOpener (pkg/storage/shares does); others are driven through the
// plain interface. It does not store anything itself, and knows nothing of
// share containers or backends; the wire format is pkg/storage/gbswire.
package gbsserver

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// ChunkWriter is implemented by servers that take an immutable chunk as a
// stream, so a PATCH body is written as it arrives rather than buffered.
// It must refuse a range beyond the allocation before reading r, and treat
// a body shorter than n as storage.ErrBadRequest.
type ChunkWriter interface {
	WriteShareChunkFrom(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, r io.Reader, n int64) (storage.WriteResult, error)
}

// ShareOpener is implemented by servers that open a complete share for
// streaming reads of its data (mutable selects the container kind), so a
// GET is answered with its exact length and without buffering.
type ShareOpener interface {
	OpenShare(ctx context.Context, si storage.StorageIndex, shnum int, mutable bool) (storage.ShareData, error)
}

// Options tune the server.
type Options struct {
	// MaxChunkSize bounds one PATCH body (default 64 MiB).
	MaxChunkSize int64
	// MaxMutableRequest bounds one read-test-write body (default 128 MiB).
	MaxMutableRequest int64
	// BodyReadTimeout bounds each read of a request body: a body that
	// makes no progress for this long fails the request with 408 and frees
	// what it held (default 60s).
	BodyReadTimeout time.Duration
	// ResponseWriteTimeout bounds each write of a share read's response
	// body: a client that stops reading is cut off after this long, freeing
	// the open share and the handler (default 60s).
	ResponseWriteTimeout time.Duration
	// MaxBodyMemory bounds the memory all request bodies in flight may
	// hold at once: bodies decoded in memory count their declared length
	// (or their limit), streamed chunks their buffer. A request that cannot
	// get room within BodyReadTimeout fails with 503 (default 256 MiB,
	// and at least MaxMutableRequest).
	MaxBodyMemory int64
	// Logger gets one debug line per request (method, path, status,
	// duration: never a secret); discarded when nil.
	Logger *slog.Logger
}

// Server serves GBS for a storage.Server. Wrap it in TLS with ServeTLS.
type Server struct {
	srv     storage.Server
	authz   []byte // the exact Authorization header value expected
	opts    Options
	mux     *http.ServeMux
	bufPool sync.Pool
	// bodyMem is the budget of Options.MaxBodyMemory, in bytes.
	bodyMem *semaphore.Weighted
}

// streamBuf is the piece size of streamed bodies and reads.
const streamBuf = 64 << 10

// New serves srv to clients presenting swissnum (the last path segment of
// the NURL).
func New(srv storage.Server, swissnum string, opts Options) *Server {
	if opts.MaxChunkSize <= 0 {
		opts.MaxChunkSize = 64 << 20
	}
	if opts.MaxMutableRequest <= 0 {
		opts.MaxMutableRequest = 128 << 20
	}
	if opts.BodyReadTimeout <= 0 {
		opts.BodyReadTimeout = 60 * time.Second
	}
	if opts.ResponseWriteTimeout <= 0 {
		opts.ResponseWriteTimeout = 60 * time.Second
	}
	if opts.MaxBodyMemory <= 0 {
		opts.MaxBodyMemory = 256 << 20
	}
	opts.MaxBodyMemory = max(opts.MaxBodyMemory, opts.MaxMutableRequest, 8192+streamBuf)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		srv:     srv,
		authz:   []byte(gbswire.AuthorizationHeader(swissnum)),
		opts:    opts,
		mux:     http.NewServeMux(),
		bodyMem: semaphore.NewWeighted(opts.MaxBodyMemory),
	}
	s.bufPool.New = func() any { b := make([]byte, streamBuf); return &b }
	const (
		lease  = gbswire.SecretLeaseRenew
		cancel = gbswire.SecretLeaseCancel
		upload = gbswire.SecretUpload
		we     = gbswire.SecretWriteEnabler
	)
	m := s.mux
	m.Handle("GET /storage/v1/version", s.h(nil, pathNone, s.version))
	m.Handle("PUT /storage/v1/lease/{si}", s.h([]string{lease, cancel}, pathSI, s.lease))
	m.Handle("POST /storage/v1/immutable/{si}", s.h([]string{lease, cancel, upload}, pathSI, s.allocate))
	m.Handle("PATCH /storage/v1/immutable/{si}/{shnum}", s.h([]string{upload}, pathShare, s.write))
	m.Handle("PUT /storage/v1/immutable/{si}/{shnum}/abort", s.h([]string{upload}, pathShare, s.abort))
	m.Handle("GET /storage/v1/immutable/{si}/shares", s.h(nil, pathNone, s.listShares(false)))
	m.Handle("GET /storage/v1/immutable/{si}/{shnum}", s.h(nil, pathShare, s.read(false)))
	m.Handle("POST /storage/v1/immutable/{si}/{shnum}/corrupt", s.h(nil, pathShare, s.corrupt(false)))
	m.Handle("POST /storage/v1/mutable/{si}/read-test-write", s.h([]string{lease, cancel, we}, pathSI, s.readTestWrite))
	m.Handle("GET /storage/v1/mutable/{si}/shares", s.h(nil, pathNone, s.listShares(true)))
	m.Handle("GET /storage/v1/mutable/{si}/{shnum}", s.h(nil, pathShare, s.read(true)))
	m.Handle("POST /storage/v1/mutable/{si}/{shnum}/corrupt", s.h(nil, pathShare, s.corrupt(true)))
	return s
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ServeHTTP checks the swissnum on every request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), s.authz) != 1 {
		http.Error(sw, "wrong Authorization header", http.StatusUnauthorized)
	} else {
		s.mux.ServeHTTP(sw, r)
	}
	s.opts.Logger.Debug("gbs request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "duration", time.Since(start))
}

// pathKind says which path values a route carries.
type pathKind int

const (
	pathNone  pathKind = iota
	pathSI             // {si}
	pathShare          // {si}/{shnum}
)

// call is one request, its secrets and path values parsed.
type call struct {
	s       *Server
	r       *http.Request
	body    io.Reader // r.Body under the per-read deadline
	secrets map[string][]byte
	si      storage.StorageIndex
	shnum   int
	// reserved is the body memory this request holds until it is answered.
	reserved int64
}

// decode reads the request body (at most limit bytes) into v, holding room
// for it in the body-memory budget until the request is answered (the
// decoded value lives that long).
func (c *call) decode(limit int64, v any) error {
	n := limit
	if c.r.ContentLength >= 0 {
		n = min(limit+1, c.r.ContentLength)
	}
	if err := c.reserve(n); err != nil {
		return err
	}
	return gbswire.DecodeBody(c.body, c.r.Header.Get("Content-Type"), limit, v)
}

// reserve takes n bytes of the body-memory budget for this request.
func (c *call) reserve(n int64) error {
	n = max(n, 1)
	if err := c.s.reserve(c.r.Context(), n); err != nil {
		return err
	}
	c.reserved += n
	return nil
}

// reserve takes n bytes of the body-memory budget, waiting up to the body
// read timeout for room.
func (s *Server) reserve(ctx context.Context, n int64) error {
	if n > s.opts.MaxBodyMemory {
		return fmt.Errorf("request body of %d bytes: %w", n, storage.ErrTooLarge)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.BodyReadTimeout)
	defer cancel()
	if err := s.bodyMem.Acquire(ctx, n); err != nil {
		return fmt.Errorf("no room for a %d-byte request body: %w", n, gbswire.ErrBusy)
	}
	return nil
}

// deadlineBody reads a request body with a fresh read deadline before
// every read, so a stalled body fails with ErrBodyTimeout instead of
// holding the handler (and what it has locked or reserved) forever.
type deadlineBody struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	ok      bool  // deadlines are supported on this connection
	err     error // sticky: a timed-out body stays timed out
}

func newDeadlineBody(w http.ResponseWriter, r *http.Request, timeout time.Duration) *deadlineBody {
	rc := http.NewResponseController(w)
	d := &deadlineBody{r: r.Body, rc: rc, timeout: timeout}
	d.ok = rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	return d
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.ok {
		_ = d.rc.SetReadDeadline(time.Now().Add(d.timeout))
	}
	n, err := d.r.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		d.err = fmt.Errorf("no body bytes for %v: %w", d.timeout, gbswire.ErrBodyTimeout)
		err = d.err
	}
	return n, err
}

func (c *call) lease() storage.LeaseSecrets { return gbswire.LeaseFrom(c.secrets) }

// h adapts a handler: it parses exactly the secrets named and the path
// values, and answers any error the handler returns with its status.
func (s *Server) h(want []string, path pathKind, fn func(w http.ResponseWriter, c *call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, r: r, body: newDeadlineBody(w, r, s.opts.BodyReadTimeout)}
		defer func() {
			if c.reserved > 0 {
				s.bodyMem.Release(c.reserved)
			}
		}()
		var err error
		if c.secrets, err = gbswire.ParseSecrets(r.Header, want...); err != nil {
			s.fail(w, err)
			return
		}
		if path >= pathSI {
			if c.si, err = parseSI(r); err != nil {
				s.fail(w, err)
				return
			}
		}
		if path >= pathShare {
			if c.shnum, err = parseShare(r); err != nil {
				s.fail(w, err)
				return
			}
		}
		if err := fn(w, c); err != nil {
			s.fail(w, err)
		}
	})
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	code := gbswire.StatusFor(err)
	msg := http.StatusText(code)
	switch code {
	case http.StatusInternalServerError:
		s.opts.Logger.Error("gbs request failed", "err", err)
	case http.StatusServiceUnavailable:
		// The details (endpoint, bucket, key) are the operator's: the
		// client is told what it can act on.
		s.opts.Logger.Warn("gbs request failed: share backend unavailable", "err", err)
		msg = "the storage server's share backend is unavailable; try again later"
	default:
		msg = err.Error()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

// send writes v in the encoding the request's Accept header allows.
func (s *Server) send(w http.ResponseWriter, r *http.Request, code int, v any) error {
	media := gbswire.Negotiate(r.Header.Get("Accept"))
	var body []byte
	var err error
	switch media {
	case gbswire.MediaCBOR:
		if ver, ok := v.(storage.Version); ok {
			body, err = gbswire.MarshalVersion(ver)
		} else {
			body, err = gbswire.MarshalCBOR(v)
		}
	case gbswire.MediaJSON:
		if ver, ok := v.(storage.Version); ok {
			v = gbswire.VersionJSON(ver)
		}
		body, err = json.Marshal(v)
	default:
		err = gbswire.ErrNotAcceptable
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
	return nil
}

func parseSI(r *http.Request) (storage.StorageIndex, error) {
	si, err := storage.ParseStorageIndex(r.PathValue("si"))
	if err != nil {
		return si, fmt.Errorf("storage index: %w", storage.ErrNotFound)
	}
	return si, nil
}

func parseShare(r *http.Request) (int, error) {
	v := r.PathValue("shnum")
	n, err := gbswire.ParseDecimal(v)
	if err != nil {
		return 0, fmt.Errorf("share number %q: %w", v, storage.ErrNotFound)
	}
	if n > 255 {
		return 0, fmt.Errorf("share number %d: %w", n, storage.ErrBadRequest)
	}
	return int(n), nil
}

func (s *Server) version(w http.ResponseWriter, c *call) error {
	v, err := s.srv.Version(c.r.Context())
	if err != nil {
		return err
	}
	return s.send(w, c.r, http.StatusOK, v)
}

func (s *Server) lease(w http.ResponseWriter, c *call) error {
	if err := s.srv.AddOrRenewLease(c.r.Context(), c.si, c.lease()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) allocate(w http.ResponseWriter, c *call) error {
	var req gbswire.AllocateRequest
	if err := c.decode(8192, &req); err != nil {
		return err
	}
	if len(req.ShareNumbers) > 256 {
		return fmt.Errorf("too many share numbers: %w", storage.ErrBadRequest)
	}
	for _, n := range req.ShareNumbers {
		if n > 255 {
			return fmt.Errorf("share number %d: %w", n, storage.ErrBadRequest)
		}
	}
	res, err := s.srv.AllocateBuckets(c.r.Context(), c.si, c.lease(), c.secrets[gbswire.SecretUpload], req.ShareNumbers.Ints(), req.AllocatedSize)
	if err != nil {
		return err
	}
	return s.send(w, c.r, http.StatusOK, gbswire.AllocateResponse{AlreadyHave: gbswire.ToShareSet(res.AlreadyHave), Allocated: gbswire.ToShareSet(res.Allocated)})
}

func (s *Server) write(w http.ResponseWriter, c *call) error {
	start, end, _, ok := gbswire.ParseContentRange(c.r.Header.Get("Content-Range"))
	if !ok {
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return nil
	}
	if int64(end-start) > s.opts.MaxChunkSize {
		return fmt.Errorf("chunk of %d bytes over the %d-byte limit: %w", end-start, s.opts.MaxChunkSize, storage.ErrTooLarge)
	}
	body := io.LimitReader(c.body, int64(end-start))
	secret := c.secrets[gbswire.SecretUpload]
	// A streamed chunk holds one buffer at a time.
	if err := c.reserve(min(int64(end-start), streamBuf)); err != nil {
		return err
	}
	var res storage.WriteResult
	var err error
	if cw, ok := s.srv.(ChunkWriter); ok {
		res, err = cw.WriteShareChunkFrom(c.r.Context(), c.si, c.shnum, secret, start, body, int64(end-start))
	} else {
		res, err = s.writePieces(c.r.Context(), c.si, c.shnum, secret, start, end, body)
	}
	if err != nil {
		return err
	}
	code := http.StatusOK
	if res.Complete {
		code = http.StatusCreated
	}
	if res.Required == nil {
		res.Required = []storage.Range{}
	}
	return s.send(w, c.r, code, gbswire.WriteResponse{Required: res.Required})
}

// writePieces streams a PATCH body into a server without ChunkWriter, one
// WriteShareChunk per 64 KiB piece.
func (s *Server) writePieces(ctx context.Context, si storage.StorageIndex, n int, secret []byte, start, end uint64, body io.Reader) (storage.WriteResult, error) {
	bp := s.bufPool.Get().(*[]byte)
	defer s.bufPool.Put(bp)
	buf := *bp
	var res storage.WriteResult
	for off := start; off < end; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		k, err := io.ReadFull(body, buf[:min(uint64(len(buf)), end-off)])
		if k > 0 {
			var werr error
			if res, werr = s.srv.WriteShareChunk(ctx, si, n, secret, off, buf[:k]); werr != nil {
				return res, werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("body shorter than Content-Range: %w", storage.ErrBadRequest)
			}
			return res, err
		}
		off += uint64(k)
	}
	return res, nil
}

func (s *Server) abort(w http.ResponseWriter, c *call) error {
	if err := s.srv.AbortUpload(c.r.Context(), c.si, c.shnum, c.secrets[gbswire.SecretUpload]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) listShares(mutable bool) func(http.ResponseWriter, *call) error {
	return func(w http.ResponseWriter, c *call) error {
		si, err := parseSI(c.r)
		if err != nil {
			// An unknown storage index lists as empty.
			return s.send(w, c.r, http.StatusOK, gbswire.ShareSet{})
		}
		var shares []int
		if mutable {
			shares, err = s.srv.ListMutableShares(c.r.Context(), si)
		} else {
			shares, err = s.srv.ListShares(c.r.Context(), si)
		}
		if err != nil {
			return err
		}
		return s.send(w, c.r, http.StatusOK, gbswire.ToShareSet(shares))
	}
}

func (s *Server) read(mutable bool) func(http.ResponseWriter, *call) error {
	return func(w http.ResponseWriter, c *call) error {
		op, ok := s.srv.(ShareOpener)
		if !ok {
			return s.readPieces(w, c, mutable)
		}
		sr, err := op.OpenShare(c.r.Context(), c.si, c.shnum, mutable)
		if err != nil {
			return err
		}
		defer sr.Close()
		length := uint64(sr.Size())
		start, end := uint64(0), length
		code := http.StatusOK
		if h := c.r.Header.Get("Range"); h != "" {
			start, end, ok = gbswire.ParseRange(h)
			if !ok {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return nil
			}
			end = min(end, length)
			if start >= end {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			code = http.StatusPartialContent
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, length))
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatUint(end-start, 10))
		w.WriteHeader(code)
		bp := s.bufPool.Get().(*[]byte)
		defer s.bufPool.Put(bp)
		buf := *bp
		rc := http.NewResponseController(w)
		for off := start; off < end; {
			k, err := sr.ReadAt(buf[:min(uint64(len(buf)), end-off)], int64(off))
			if k > 0 {
				// A client that stops reading is cut off.
				_ = rc.SetWriteDeadline(time.Now().Add(s.opts.ResponseWriteTimeout))
				if _, werr := w.Write(buf[:k]); werr != nil {
					return nil // the client went away; headers are sent
				}
				off += uint64(k)
			}
			if err != nil || k == 0 {
				return nil
			}
		}
		return nil
	}
}

// readPieces answers a read from a server without ShareOpener: the range
// (or the whole share, up to MaxChunkSize) is read through ReadShareChunk.
// The total length is known only when the read comes back short; otherwise
// Content-Range says "*".
func (s *Server) readPieces(w http.ResponseWriter, c *call, mutable bool) error {
	read := s.srv.ReadShareChunk
	if mutable {
		read = s.srv.ReadMutableShareChunk
	}
	start, end := uint64(0), uint64(s.opts.MaxChunkSize)
	ranged := false
	if h := c.r.Header.Get("Range"); h != "" {
		var ok bool
		if start, end, ok = gbswire.ParseRange(h); !ok {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return nil
		}
		if end-start > uint64(s.opts.MaxChunkSize) {
			return fmt.Errorf("range of %d bytes over the %d-byte limit: %w", end-start, s.opts.MaxChunkSize, storage.ErrTooLarge)
		}
		ranged = true
	}
	data, err := read(c.r.Context(), c.si, c.shnum, start, end-start)
	if err != nil {
		return err
	}
	if !ranged && uint64(len(data)) == end {
		return fmt.Errorf("share over the %d-byte limit of an unranged read: %w", s.opts.MaxChunkSize, storage.ErrTooLarge)
	}
	code := http.StatusOK
	if ranged {
		if len(data) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		code = http.StatusPartialContent
		total := "*"
		if uint64(len(data)) < end-start {
			total = strconv.FormatUint(start+uint64(len(data)), 10)
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%s", start, start+uint64(len(data))-1, total))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	w.Write(data)
	return nil
}

func (s *Server) corrupt(mutable bool) func(http.ResponseWriter, *call) error {
	return func(w http.ResponseWriter, c *call) error {
		var req gbswire.CorruptRequest
		if err := c.decode(32768, &req); err != nil {
			return err
		}
		if len(req.Reason) == 0 || len(req.Reason) > 32765 {
			return fmt.Errorf("reason must be 1 to 32765 bytes: %w", storage.ErrBadRequest)
		}
		var err error
		if mutable {
			err = s.srv.AdviseCorruptMutableShare(c.r.Context(), c.si, c.shnum, req.Reason)
		} else {
			err = s.srv.AdviseCorruptShare(c.r.Context(), c.si, c.shnum, req.Reason)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

func (s *Server) readTestWrite(w http.ResponseWriter, c *call) error {
	var req storage.ReadTestWriteRequest
	if err := c.decode(s.opts.MaxMutableRequest, &req); err != nil {
		return err
	}
	if err := validateRTW(req); err != nil {
		return err
	}
	ms := storage.MutableSecrets{Lease: c.lease()}
	copy(ms.WriteEnabler[:], c.secrets[gbswire.SecretWriteEnabler])
	res, err := s.srv.ReadTestWrite(c.r.Context(), c.si, ms, req)
	if err != nil {
		return err
	}
	return s.send(w, c.r, http.StatusOK, res)
}

func validateRTW(req storage.ReadTestWriteRequest) error {
	if len(req.TestWriteVectors) > 256 || len(req.ReadVector) > 30 {
		return fmt.Errorf("too many vectors: %w", storage.ErrBadRequest)
	}
	for n, tw := range req.TestWriteVectors {
		if n > 255 {
			return fmt.Errorf("share number %d: %w", n, storage.ErrBadRequest)
		}
		if len(tw.Test) > 30 {
			return fmt.Errorf("too many test vectors: %w", storage.ErrBadRequest)
		}
	}
	return nil
}

// ServeTLS serves h over TLS with cert on ln until ctx is cancelled, then
// shuts down gracefully (in-flight requests get up to five seconds).
func ServeTLS(ctx context.Context, ln net.Listener, h http.Handler, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return fmt.Errorf("serve GBS: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve GBS: %w", err)
	}
	return nil
}
