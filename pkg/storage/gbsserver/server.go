package storage

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secret kinds carried in X-Tahoe-Authorization headers.
const (
	SecretLeaseRenew   = "lease-renew-secret"
	SecretLeaseCancel  = "lease-cancel-secret"
	SecretUpload       = "upload-secret"
	SecretWriteEnabler = "write-enabler"
)

// HTTPOptions tune the GBS HTTP server.
type HTTPOptions struct {
	// MaxChunkSize bounds one PATCH body (default 64 MiB).
	MaxChunkSize int64
	// MaxMutableRequest bounds one read-test-write body (default 128 MiB).
	MaxMutableRequest int64
	// Logger gets one debug line per request; discarded when nil.
	Logger *slog.Logger
}

// HTTPServer serves the GBS protocol (docs/specifications/
// http-storage-node-protocol.rst) for a Local server. Wrap it in TLS with
// ServeTLS or Listen.
type HTTPServer struct {
	local   *Local
	authz   []byte // the exact Authorization header value expected
	opts    HTTPOptions
	mux     *http.ServeMux
	bufPool sync.Pool
}

// NewHTTPServer serves local to clients presenting swissnum (the last path
// segment of the NURL).
func NewHTTPServer(local *Local, swissnum string, opts HTTPOptions) *HTTPServer {
	if opts.MaxChunkSize <= 0 {
		opts.MaxChunkSize = 64 << 20
	}
	if opts.MaxMutableRequest <= 0 {
		opts.MaxMutableRequest = 128 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &HTTPServer{
		local: local,
		authz: []byte(AuthorizationHeader(swissnum)),
		opts:  opts,
		mux:   http.NewServeMux(),
	}
	s.bufPool.New = func() any { b := make([]byte, 64<<10); return &b }
	m := s.mux
	m.HandleFunc("GET /storage/v1/version", s.version)
	m.HandleFunc("PUT /storage/v1/lease/{si}", s.lease)
	m.HandleFunc("POST /storage/v1/immutable/{si}", s.allocate)
	m.HandleFunc("PATCH /storage/v1/immutable/{si}/{shnum}", s.write)
	m.HandleFunc("PUT /storage/v1/immutable/{si}/{shnum}/abort", s.abort)
	m.HandleFunc("GET /storage/v1/immutable/{si}/shares", s.listShares(false))
	m.HandleFunc("GET /storage/v1/immutable/{si}/{shnum}", s.read(false))
	m.HandleFunc("POST /storage/v1/immutable/{si}/{shnum}/corrupt", s.corrupt(false))
	m.HandleFunc("POST /storage/v1/mutable/{si}/read-test-write", s.readTestWrite)
	m.HandleFunc("GET /storage/v1/mutable/{si}/shares", s.listShares(true))
	m.HandleFunc("GET /storage/v1/mutable/{si}/{shnum}", s.read(true))
	m.HandleFunc("POST /storage/v1/mutable/{si}/{shnum}/corrupt", s.corrupt(true))
	return s
}

// AuthorizationHeader is the Authorization value for swissnum.
func AuthorizationHeader(swissnum string) string {
	return "Tahoe-LAFS " + base64.StdEncoding.EncodeToString([]byte(swissnum))
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

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ServeHTTP checks the swissnum on every request, then routes it.
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), s.authz) != 1 {
		http.Error(sw, "wrong Authorization header", http.StatusUnauthorized)
	} else {
		s.mux.ServeHTTP(sw, r)
	}
	s.opts.Logger.Debug("gbs request", "method", r.Method, "path", r.URL.Path, "status", sw.code, "duration", time.Since(start))
}

// secrets parses X-Tahoe-Authorization headers, requiring exactly the kinds
// named.
func secrets(r *http.Request, want ...string) (map[string][]byte, error) {
	got := map[string][]byte{}
	for _, hv := range r.Header.Values("X-Tahoe-Authorization") {
		kind, val, ok := strings.Cut(strings.TrimSpace(hv), " ")
		if !ok {
			return nil, fmt.Errorf("bad X-Tahoe-Authorization header: %w", ErrBadRequest)
		}
		switch kind {
		case SecretLeaseRenew, SecretLeaseCancel, SecretUpload, SecretWriteEnabler:
		default:
			return nil, fmt.Errorf("unknown secret %q: %w", kind, ErrBadRequest)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("failed to decode secret %s: %w", kind, ErrBadRequest)
		}
		if (kind == SecretLeaseRenew || kind == SecretLeaseCancel || kind == SecretWriteEnabler) && len(b) != 32 {
			return nil, fmt.Errorf("%s must be 32 bytes: %w", kind, ErrBadRequest)
		}
		if _, dup := got[kind]; dup {
			return nil, fmt.Errorf("secret %s given twice: %w", kind, ErrBadRequest)
		}
		got[kind] = b
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("expected secrets %v: %w", want, ErrBadRequest)
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			return nil, fmt.Errorf("expected secrets %v: %w", want, ErrBadRequest)
		}
	}
	return got, nil
}

func leaseFrom(sec map[string][]byte) LeaseSecrets {
	var l LeaseSecrets
	copy(l.Renew[:], sec[SecretLeaseRenew])
	copy(l.Cancel[:], sec[SecretLeaseCancel])
	return l
}

// StatusFor maps a Server error to its HTTP status.
func StatusFor(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errNotAcceptable):
		return http.StatusNotAcceptable
	}
	return http.StatusInternalServerError
}

func (s *HTTPServer) fail(w http.ResponseWriter, err error) {
	code := StatusFor(err)
	msg := http.StatusText(code)
	if code != http.StatusInternalServerError {
		msg = err.Error()
	} else {
		s.opts.Logger.Error("gbs request failed", "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

// send writes v in the encoding the request's Accept header allows.
func (s *HTTPServer) send(w http.ResponseWriter, r *http.Request, code int, v any) {
	media := negotiate(r.Header.Get("Accept"))
	var body []byte
	var err error
	switch media {
	case MediaCBOR:
		if ver, ok := v.(Version); ok {
			body, err = MarshalVersion(ver)
		} else {
			body, err = MarshalCBOR(v)
		}
	case MediaJSON:
		if ver, ok := v.(Version); ok {
			v = versionJSON(ver)
		}
		body, err = json.Marshal(v)
	default:
		err = errNotAcceptable
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

func pathSI(r *http.Request) (StorageIndex, error) {
	si, err := ParseStorageIndex(r.PathValue("si"))
	if err != nil {
		return si, fmt.Errorf("storage index: %w", ErrNotFound)
	}
	return si, nil
}

func pathShare(r *http.Request) (int, error) {
	v := r.PathValue("shnum")
	n, err := parseDecimal(v)
	if err != nil {
		return 0, fmt.Errorf("share number %q: %w", v, ErrNotFound)
	}
	if n > 255 {
		return 0, fmt.Errorf("share number %d: %w", n, ErrBadRequest)
	}
	return int(n), nil
}

func pathBoth(r *http.Request) (StorageIndex, int, error) {
	si, err := pathSI(r)
	if err != nil {
		return si, 0, err
	}
	n, err := pathShare(r)
	return si, n, err
}

func (s *HTTPServer) version(w http.ResponseWriter, r *http.Request) {
	if _, err := secrets(r); err != nil {
		s.fail(w, err)
		return
	}
	v, err := s.local.Version(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	s.send(w, r, http.StatusOK, v)
}

func (s *HTTPServer) lease(w http.ResponseWriter, r *http.Request) {
	sec, err := secrets(r, SecretLeaseRenew, SecretLeaseCancel)
	if err != nil {
		s.fail(w, err)
		return
	}
	si, err := pathSI(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := s.local.AddOrRenewLease(r.Context(), si, leaseFrom(sec)); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *HTTPServer) allocate(w http.ResponseWriter, r *http.Request) {
	sec, err := secrets(r, SecretLeaseRenew, SecretLeaseCancel, SecretUpload)
	if err != nil {
		s.fail(w, err)
		return
	}
	si, err := pathSI(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var req AllocateRequest
	if err := decodeBody(r.Body, r.Header.Get("Content-Type"), 8192, &req); err != nil {
		s.fail(w, err)
		return
	}
	if len(req.ShareNumbers) > 256 {
		s.fail(w, fmt.Errorf("too many share numbers: %w", ErrBadRequest))
		return
	}
	for _, n := range req.ShareNumbers {
		if n > 255 {
			s.fail(w, fmt.Errorf("share number %d: %w", n, ErrBadRequest))
			return
		}
	}
	res, err := s.local.AllocateBuckets(r.Context(), si, leaseFrom(sec), sec[SecretUpload], req.ShareNumbers.Ints(), req.AllocatedSize)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.send(w, r, http.StatusOK, AllocateResponse{AlreadyHave: toShareSet(res.AlreadyHave), Allocated: toShareSet(res.Allocated)})
}

func (s *HTTPServer) write(w http.ResponseWriter, r *http.Request) {
	sec, err := secrets(r, SecretUpload)
	if err != nil {
		s.fail(w, err)
		return
	}
	si, n, err := pathBoth(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	start, end, _, ok := ParseContentRange(r.Header.Get("Content-Range"))
	if !ok {
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if int64(end-start) > s.opts.MaxChunkSize {
		s.fail(w, fmt.Errorf("chunk of %d bytes over the %d-byte limit: %w", end-start, s.opts.MaxChunkSize, ErrTooLarge))
		return
	}
	u, err := s.local.beginWrite(si, n, sec[SecretUpload])
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := s.writeBody(r, si, n, u, start, end)
	s.local.endWrite(u)
	if err != nil {
		s.fail(w, err)
		return
	}
	code := http.StatusOK
	if res.Complete {
		code = http.StatusCreated
	}
	if res.Required == nil {
		res.Required = []Range{}
	}
	s.send(w, r, code, WriteResponse{Required: res.Required})
}

// writeBody streams a PATCH body into an upload in 64 KiB pieces.
func (s *HTTPServer) writeBody(r *http.Request, si StorageIndex, n int, u *upload, start, end uint64) (WriteResult, error) {
	if end > uint64(u.size) {
		return WriteResult{}, fmt.Errorf("bytes %d-%d beyond the allocated %d: %w", start, end, u.size, ErrTooLarge)
	}
	bp := s.bufPool.Get().(*[]byte)
	defer s.bufPool.Put(bp)
	buf := *bp
	body := io.LimitReader(r.Body, int64(end-start))
	var res WriteResult
	for off := start; off < end; {
		if err := r.Context().Err(); err != nil {
			return res, err
		}
		k, err := io.ReadFull(body, buf[:min(uint64(len(buf)), end-off)])
		if k == 0 {
			if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("body shorter than Content-Range: %w", ErrBadRequest)
			}
			return res, err
		}
		if res, err = s.local.writeLocked(r.Context(), si, n, u, off, buf[:k]); err != nil {
			return res, err
		}
		off += uint64(k)
	}
	return res, nil
}

func (s *HTTPServer) abort(w http.ResponseWriter, r *http.Request) {
	sec, err := secrets(r, SecretUpload)
	if err != nil {
		s.fail(w, err)
		return
	}
	si, n, err := pathBoth(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := s.local.AbortUpload(r.Context(), si, n, sec[SecretUpload]); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *HTTPServer) listShares(mutable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := secrets(r); err != nil {
			s.fail(w, err)
			return
		}
		si, err := pathSI(r)
		if err != nil {
			// An unknown storage index lists as empty.
			s.send(w, r, http.StatusOK, ShareSet{})
			return
		}
		var shares []int
		if mutable {
			shares, err = s.local.ListMutableShares(r.Context(), si)
		} else {
			shares, err = s.local.ListShares(r.Context(), si)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		s.send(w, r, http.StatusOK, toShareSet(shares))
	}
}

func (s *HTTPServer) read(mutable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := secrets(r); err != nil {
			s.fail(w, err)
			return
		}
		si, n, err := pathBoth(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		sr, err := s.local.OpenShareReader(si, n, mutable)
		if err != nil {
			s.fail(w, err)
			return
		}
		defer sr.Close()
		length := uint64(sr.Len())
		start, end := uint64(0), length
		code := http.StatusOK
		if h := r.Header.Get("Range"); h != "" {
			var ok bool
			start, end, ok = ParseRange(h)
			if !ok {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			end = min(end, length)
			if start >= end {
				w.WriteHeader(http.StatusNoContent)
				return
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
		for off := start; off < end; {
			k, err := sr.ReadData(buf[:min(uint64(len(buf)), end-off)], int64(off))
			if k > 0 {
				if _, werr := w.Write(buf[:k]); werr != nil {
					return
				}
				off += uint64(k)
			}
			if err != nil || k == 0 {
				return
			}
		}
	}
}

func (s *HTTPServer) corrupt(mutable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := secrets(r); err != nil {
			s.fail(w, err)
			return
		}
		si, n, err := pathBoth(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		var req CorruptRequest
		if err := decodeBody(r.Body, r.Header.Get("Content-Type"), 32768, &req); err != nil {
			s.fail(w, err)
			return
		}
		if len(req.Reason) == 0 || len(req.Reason) > 32765 {
			s.fail(w, fmt.Errorf("reason must be 1 to 32765 bytes: %w", ErrBadRequest))
			return
		}
		if mutable {
			err = s.local.AdviseCorruptMutableShare(r.Context(), si, n, req.Reason)
		} else {
			err = s.local.AdviseCorruptShare(r.Context(), si, n, req.Reason)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func (s *HTTPServer) readTestWrite(w http.ResponseWriter, r *http.Request) {
	sec, err := secrets(r, SecretLeaseRenew, SecretLeaseCancel, SecretWriteEnabler)
	if err != nil {
		s.fail(w, err)
		return
	}
	si, err := pathSI(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	var req ReadTestWriteRequest
	if err := decodeBody(r.Body, r.Header.Get("Content-Type"), s.opts.MaxMutableRequest, &req); err != nil {
		s.fail(w, err)
		return
	}
	if err := validateRTW(req); err != nil {
		s.fail(w, err)
		return
	}
	ms := MutableSecrets{Lease: leaseFrom(sec)}
	copy(ms.WriteEnabler[:], sec[SecretWriteEnabler])
	res, err := s.local.ReadTestWrite(r.Context(), si, ms, req)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.send(w, r, http.StatusOK, res)
}

func validateRTW(req ReadTestWriteRequest) error {
	if len(req.TestWriteVectors) > 256 || len(req.ReadVector) > 30 {
		return fmt.Errorf("too many vectors: %w", ErrBadRequest)
	}
	for n, tw := range req.TestWriteVectors {
		if n > 255 {
			return fmt.Errorf("share number %d: %w", n, ErrBadRequest)
		}
		if len(tw.Test) > 30 {
			return fmt.Errorf("too many test vectors: %w", ErrBadRequest)
		}
	}
	return nil
}
