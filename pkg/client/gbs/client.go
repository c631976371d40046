// Package gbs is the client side of Tahoe-LAFS's HTTP storage protocol
// ("Great Black Swamp"): a storage.Server that talks HTTPS to one storage
// node named by its NURL. The server's certificate is pinned to the NURL's
// SPKI hash (no certificate authorities, no host names); every request
// carries the swissnum; bodies are CBOR.
//
// It does not choose servers or encode shares (pkg/client does) and holds
// no state beyond pooled connections.
package gbs

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

// Options tune a Client.
type Options struct {
	// Retries is how many times a request that is safe to repeat is retried
	// after a network failure or a 502/503/504 (default 2).
	Retries int
	// RetryDelay is the first back-off delay, doubled each retry (default 100ms).
	RetryDelay time.Duration
	// MaxConnsPerHost bounds the requests in flight to the server, so the
	// connections open to it (default DefaultMaxConns; negative for no
	// bound): every upload and download of the process shares them, and a
	// request beyond the bound waits for one to finish. Share writes and
	// share reads of more than smallBody bytes are held to one fewer, so a
	// question (version, list, allocate, abort, lease) never waits behind
	// bulk transfers: concurrent uploads do not make one another's queries
	// time out.
	MaxConnsPerHost int
	// DialTimeout bounds connecting and the TLS handshake (default 10s).
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's headers once
	// the request is sent, so that a server that takes the request and never
	// answers fails the request even under a context with no deadline
	// (default 30s). Callers bound whole requests with their context.
	ResponseHeaderTimeout time.Duration
	// VersionMaxAge is how long Version answers from the server's last
	// reply (default DefaultVersionMaxAge; negative to ask every time).
	// Tahoe-LAFS keeps the version a server gave for the life of the
	// connection; uploads ask before every file, and a fresh question per
	// file per server was a tenth of the cost of a small file.
	VersionMaxAge time.Duration
}

// DefaultVersionMaxAge is the default Options.VersionMaxAge.
const DefaultVersionMaxAge = 5 * time.Second

// Client is a storage.Server over GBS. It is safe for concurrent use and
// reuses connections; call Close to release them.
type Client struct {
	nurl  gbswire.NURL
	base  string
	authz string
	hc    *http.Client
	tr    *http.Transport
	opts  Options
	// shook says a TLS handshake with the server has succeeded (Warm).
	shook atomic.Bool
	// conns and bulk bound the requests in flight (nil: unbounded):
	// every request holds one of conns, a bulk one first one of bulk.
	conns, bulk *semaphore.Weighted

	verMu sync.Mutex // guards ver and verAt
	ver   storage.Version
	verAt time.Time // when ver was the server's answer (zero: none)
}

// DefaultMaxConns is the default bound on the requests in flight to one
// server (Options.MaxConnsPerHost).
const DefaultMaxConns = 8

// smallBody is the most a request may send or read and still count as a
// question rather than a bulk transfer.
const smallBody = 64 << 10

var _ storage.Server = (*Client)(nil)

// ErrWrongServer is returned when the server's certificate does not match
// the SPKI hash in the NURL.
var ErrWrongServer = errors.New("server certificate does not match the NURL's SPKI hash")

// New makes a client for the storage service at nurl.
func New(nurl string, opts Options) (*Client, error) {
	n, err := gbswire.ParseNURL(nurl)
	if err != nil {
		return nil, fmt.Errorf("gbs: %w", err)
	}
	if opts.Retries == 0 {
		opts.Retries = 2
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 100 * time.Millisecond
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = 30 * time.Second
	}
	if opts.MaxConnsPerHost == 0 {
		opts.MaxConnsPerHost = DefaultMaxConns
	}
	if opts.VersionMaxAge == 0 {
		opts.VersionMaxAge = DefaultVersionMaxAge
	}
	c := &Client{nurl: n, opts: opts}
	pin := pinSPKI(n.SPKIHash)
	tlsConf := &tls.Config{
		// Names and CAs mean nothing here: the certificate is checked against
		// the SPKI hash in VerifyConnection instead, on every connection.
		InsecureSkipVerify: true, //nolint:gosec // pinned below
		MinVersion:         tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if err := pin(cs); err != nil {
				return err
			}
			c.shook.Store(true)
			return nil
		},
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: opts.DialTimeout,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		// Requests wait for room in c.conns, where questions can pass
		// bulk transfers; the transport's bound only keeps a request from
		// dialing while the connection of the one it follows is on its
		// way back to the idle pool.
		MaxConnsPerHost: max(opts.MaxConnsPerHost, 0),
		IdleConnTimeout: 90 * time.Second,
		WriteBufferSize: 64 << 10,
		ReadBufferSize:  64 << 10,
	}
	tr.ResponseHeaderTimeout = opts.ResponseHeaderTimeout
	c.base = "https://" + n.Address()
	c.authz = gbswire.AuthorizationHeader(n.Swissnum)
	c.hc, c.tr = &http.Client{Transport: tr}, tr
	if m := opts.MaxConnsPerHost; m > 0 {
		c.conns = semaphore.NewWeighted(int64(m))
		c.bulk = semaphore.NewWeighted(int64(max(m-1, 1)))
	}
	return c, nil
}

// Warm reports whether a TLS handshake with the server has succeeded in
// this client, so that a connection is likely pooled and the next request
// costs no handshake: a read that may choose among several servers asks
// warm ones first.
func (c *Client) Warm() bool { return c.shook.Load() }

// pinSPKI accepts a server whose certificate's public key has the SPKI
// hash want. That is the whole check, and it is enough: crypto/tls
// verifies the handshake's signature (TLS 1.3 CertificateVerify, or the
// TLS 1.2 key exchange signature) against that same certificate's key
// whatever InsecureSkipVerify says, and no handshake completes without
// it, so a server that completes one holds the pinned private key. The
// certificate's signature over itself proves nothing more (whoever holds
// the key can sign any certificate) and is not checked: it was a fifth of
// the handshake's cost to a short command.
func pinSPKI(want string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("gbs: server sent no certificate")
		}
		if got := gbswire.SPKIHash(cs.PeerCertificates[0]); got != want {
			return fmt.Errorf("gbs: SPKI hash %s, want %s: %w", got, want, ErrWrongServer)
		}
		return nil
	}
}

// NURL is the service's NURL.
func (c *Client) NURL() gbswire.NURL { return c.nurl }

// Close releases idle connections.
func (c *Client) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// request describes one HTTP exchange.
type request struct {
	method  string
	path    string
	secrets [][2]string
	body    []byte
	// bufs, when body is nil, is a body sent from several buffers without
	// joining them (a vectored write).
	bufs    [][]byte
	ctype   string
	headers map[string]string
	retry   bool
	// bulk: a share write or read of more than smallBody bytes, held to
	// fewer requests in flight than questions (see Options).
	bulk bool
	// sent, when set, makes the bodies of body or bufs; its owner waits
	// for them to be closed once done with the response (see call).
	sent *bodies
}

// newBodies makes the bodies of r's body.
func newBodies(r request) *bodies {
	if r.body != nil {
		return &bodies{bufs: [][]byte{r.body}}
	}
	return &bodies{bufs: r.bufs}
}

// bodyLen is the length of r's body.
func (r *request) bodyLen() int64 {
	if r.body != nil {
		return int64(len(r.body))
	}
	var n int64
	for _, b := range r.bufs {
		n += int64(len(b))
	}
	return n
}

// bodies hands out readers over a request's body, one per attempt (and
// per rewind net/http asks for), and tells when net/http has closed all of
// them. net/http may still be writing a request body after Do has
// returned (a server that answers before reading it all) and closes the
// body when it is done with it, possibly from another goroutine; the
// caller's buffers are free only then.
type bodies struct {
	bufs [][]byte
	wg   sync.WaitGroup
}

// next returns a fresh reader over the whole body.
func (b *bodies) next() io.ReadCloser {
	b.wg.Add(1)
	bs := make(net.Buffers, len(b.bufs))
	copy(bs, b.bufs)
	return &body{bufs: bs, done: b.wg.Done}
}

// body reads a vectored body; Close says net/http is done with it.
type body struct {
	bufs net.Buffers
	once sync.Once
	done func()
}

func (b *body) Read(p []byte) (int, error) { return b.bufs.Read(p) }

// WriteTo lets the transport write the buffers without an intermediate
// copy where it can.
func (b *body) WriteTo(w io.Writer) (int64, error) { return b.bufs.WriteTo(w) }

func (b *body) Close() error {
	b.once.Do(b.done)
	return nil
}

func secretHeader(kind string, v []byte) [2]string {
	return [2]string{kind, base64.StdEncoding.EncodeToString(v)}
}

// do sends r, retrying when r.retry and the failure is transient. The caller
// closes the response body.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	attempts := 1
	if r.retry {
		attempts += c.opts.Retries
	}
	delay := c.opts.RetryDelay
	var lastErr error
	bs := r.sent
	if bs == nil && (r.body != nil || r.bufs != nil) {
		// No caller waits for the bodies: wait here.
		bs = newBodies(r)
		defer bs.wg.Wait()
	}
	// ex is made only once a request must wait for room: until then
	// the caller's context bounds the request as it is.
	var ex *exchange
	end := func() {
		if ex != nil {
			ex.end()
		}
	}
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				end()
				return nil, context.Cause(ctx)
			case <-t.C:
			}
			delay *= 2
		}
		release, ok := c.trySlot(r.bulk)
		if !ok {
			if ex == nil {
				ex = newExchange(ctx)
				ctx = ex.ctx
			}
			var err error
			if release, err = c.slot(ctx, r.bulk); err != nil {
				end()
				return nil, context.Cause(ctx)
			}
		}
		if ex != nil {
			ex.start()
		}
		req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, nil)
		if err != nil {
			release()
			end()
			return nil, fmt.Errorf("gbs: %w", err)
		}
		if bs != nil {
			req.Body = bs.next()
			req.GetBody = func() (io.ReadCloser, error) { return bs.next(), nil }
			req.ContentLength = r.bodyLen()
			if req.ContentLength == 0 {
				req.Body.Close()
				req.Body, req.GetBody = http.NoBody, nil
			}
		}
		req.Header.Set("Authorization", c.authz)
		req.Header.Set("Accept", gbswire.MediaCBOR)
		for _, s := range r.secrets {
			req.Header.Add("X-Tahoe-Authorization", s[0]+" "+s[1])
		}
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		for k, v := range r.headers {
			req.Header.Set(k, v)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			release()
			if ctx.Err() != nil {
				end()
				return nil, context.Cause(ctx)
			}
			if errors.Is(err, ErrWrongServer) {
				end()
				return nil, fmt.Errorf("gbs %s %s: %w", r.method, r.path, ErrWrongServer)
			}
			lastErr = fmt.Errorf("gbs %s %s: %w", r.method, r.path, err)
			continue
		}
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			lastErr = statusError(r, resp)
			release()
			continue
		}
		resp.Body = &slotBody{ReadCloser: resp.Body, release: func() { release(); end() }}
		return resp, nil
	}
	end()
	return nil, lastErr
}

// exchange is the context the attempts of one request run under: the
// caller's values and cancellation, and the caller's deadline taken as a
// budget that starts once the request has room to go out (see slot), so
// time spent waiting behind the process's other requests to the server is
// not counted against it. Every path of do calls end, or hands it to the
// response body's Close.
type exchange struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	budget time.Duration // 0: the caller set no deadline
	unhook func() bool
	mu     sync.Mutex
	timer  *time.Timer
	ended  bool
}

func newExchange(parent context.Context) *exchange {
	e := &exchange{}
	e.ctx, e.cancel = context.WithCancelCause(context.WithoutCancel(parent))
	if d, ok := parent.Deadline(); ok {
		e.budget = time.Until(d)
	}
	e.unhook = context.AfterFunc(parent, func() {
		if e.budget > 0 && errors.Is(parent.Err(), context.DeadlineExceeded) {
			return // the budget bounds the exchange instead
		}
		e.cancel(context.Cause(parent))
	})
	return e
}

// start starts the budget, once.
func (e *exchange) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.budget > 0 && e.timer == nil && !e.ended {
		e.timer = time.AfterFunc(e.budget, func() { e.cancel(context.DeadlineExceeded) })
	}
}

// end releases the exchange's context and timers.
func (e *exchange) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ended {
		return
	}
	e.ended = true
	e.unhook()
	if e.timer != nil {
		e.timer.Stop()
	}
	e.cancel(context.Canceled)
}

// trySlot takes room for one request in flight if there is some now, and
// returns its release.
func (c *Client) trySlot(bulk bool) (func(), bool) {
	if c.conns == nil {
		return func() {}, true
	}
	if bulk && !c.bulk.TryAcquire(1) {
		return nil, false
	}
	if !c.conns.TryAcquire(1) {
		if bulk {
			c.bulk.Release(1)
		}
		return nil, false
	}
	return c.releaser(bulk), true
}

// releaser gives back one request's room, once however often it is called.
func (c *Client) releaser(bulk bool) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			c.conns.Release(1)
			if bulk {
				c.bulk.Release(1)
			}
		})
	}
}

// slot waits for room for one request in flight (see
// Options.MaxConnsPerHost) and returns its release, which may be called
// more than once. It fails only when ctx ends.
func (c *Client) slot(ctx context.Context, bulk bool) (func(), error) {
	if c.conns == nil {
		return func() {}, nil
	}
	if bulk {
		if err := c.bulk.Acquire(ctx, 1); err != nil {
			return nil, err
		}
	}
	if err := c.conns.Acquire(ctx, 1); err != nil {
		if bulk {
			c.bulk.Release(1)
		}
		return nil, err
	}
	return c.releaser(bulk), nil
}

// slotBody is a response body that gives its request's room back when
// closed.
type slotBody struct {
	io.ReadCloser
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// statusError turns an unexpected response into an error wrapping the
// matching storage error, and closes its body.
func statusError(r request, resp *http.Response) error {
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	kind := gbswire.ErrorFor(resp.StatusCode)
	if kind == nil {
		kind = errors.New("unexpected response")
	}
	return fmt.Errorf("gbs %s %s: %d %s: %w", r.method, r.path, resp.StatusCode, strings.TrimSpace(string(msg)), kind)
}

// call sends r and decodes a CBOR response into out when the status is one
// of ok.
func (c *Client) call(ctx context.Context, r request, out any, ok ...int) (int, error) {
	if r.body != nil || r.bufs != nil {
		// Return only once net/http has let go of every body made from
		// the caller's buffers: after the response is read and closed
		// (deferred calls run last first), since net/http may go on
		// sending a body until then.
		r.sent = newBodies(r)
		defer r.sent.wg.Wait()
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return 0, err
	}
	for _, code := range ok {
		if resp.StatusCode == code {
			defer resp.Body.Close()
			if out == nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				return code, nil
			}
			data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
			if err != nil {
				return code, fmt.Errorf("gbs %s %s: read response: %w", r.method, r.path, err)
			}
			if v, isVersion := out.(*storage.Version); isVersion {
				*v, err = gbswire.UnmarshalVersion(data)
			} else {
				err = gbswire.UnmarshalCBOR(data, out)
			}
			if err != nil {
				return code, fmt.Errorf("gbs %s %s: %w", r.method, r.path, err)
			}
			return code, nil
		}
	}
	return resp.StatusCode, statusError(r, resp)
}

func encode(v any) ([]byte, error) {
	b, err := gbswire.MarshalCBOR(v)
	if err != nil {
		return nil, fmt.Errorf("gbs: %w", err)
	}
	return b, nil
}

// Version implements storage.Server.
// An answer younger than Options.VersionMaxAge is given again without
// asking (the space a server reports moves as it is used; an upload that
// meets a full server finds out from its allocation).
func (c *Client) Version(ctx context.Context) (storage.Version, error) {
	if age := c.opts.VersionMaxAge; age > 0 {
		c.verMu.Lock()
		v, at := c.ver, c.verAt
		c.verMu.Unlock()
		if !at.IsZero() && time.Since(at) < age {
			v.ApplicationVersion = bytes.Clone(v.ApplicationVersion)
			return v, nil
		}
	}
	var v storage.Version
	asked := time.Now()
	if _, err := c.call(ctx, request{method: "GET", path: "/storage/v1/version", retry: true}, &v, http.StatusOK); err != nil {
		return v, err
	}
	c.verMu.Lock()
	if asked.After(c.verAt) {
		c.ver, c.verAt = v, asked
		c.ver.ApplicationVersion = bytes.Clone(v.ApplicationVersion)
	}
	c.verMu.Unlock()
	return v, nil
}

func leaseSecrets(l storage.LeaseSecrets) [][2]string {
	return [][2]string{secretHeader(gbswire.SecretLeaseRenew, l.Renew[:]), secretHeader(gbswire.SecretLeaseCancel, l.Cancel[:])}
}

// AllocateBuckets implements storage.Server. Repeating it with the same
// upload secret is safe, so it is retried.
func (c *Client) AllocateBuckets(ctx context.Context, si storage.StorageIndex, lease storage.LeaseSecrets, uploadSecret []byte, shares []int, allocatedSize uint64) (storage.AllocateResult, error) {
	set := make(gbswire.ShareSet, len(shares))
	for i, n := range shares {
		set[i] = uint64(n)
	}
	body, err := encode(gbswire.AllocateRequest{ShareNumbers: set, AllocatedSize: allocatedSize})
	if err != nil {
		return storage.AllocateResult{}, err
	}
	var resp gbswire.AllocateResponse
	_, err = c.call(ctx, request{
		method: "POST", path: "/storage/v1/immutable/" + si.String(),
		secrets: append(leaseSecrets(lease), secretHeader(gbswire.SecretUpload, uploadSecret)),
		body:    body, ctype: gbswire.MediaCBOR, retry: true,
	}, &resp, http.StatusOK)
	if err != nil {
		return storage.AllocateResult{}, err
	}
	return storage.AllocateResult{AlreadyHave: resp.AlreadyHave.Ints(), Allocated: resp.Allocated.Ints()}, nil
}

// WriteShareChunk implements storage.Server. Rewriting identical bytes is
// idempotent, so it is retried. It returns only once net/http is done
// with data, so the caller may reuse it at once.
func (c *Client) WriteShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, data []byte) (storage.WriteResult, error) {
	return c.WriteShareChunkVec(ctx, si, shnum, uploadSecret, offset, [][]byte{data})
}

// WriteShareChunkVec is WriteShareChunk of the concatenation of data,
// sent as one request without joining the buffers. Like WriteShareChunk
// it returns only once net/http has closed every request body made from
// data (on every path, errors included), so the caller may then reuse the
// buffers.
func (c *Client) WriteShareChunkVec(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte, offset uint64, data [][]byte) (storage.WriteResult, error) {
	var n uint64
	for _, b := range data {
		n += uint64(len(b))
	}
	if n == 0 {
		return storage.WriteResult{}, fmt.Errorf("gbs: empty chunk: %w", storage.ErrBadRequest)
	}
	var resp gbswire.WriteResponse
	code, err := c.call(ctx, request{
		method: "PATCH", path: fmt.Sprintf("/storage/v1/immutable/%s/%d", si, shnum),
		secrets: [][2]string{secretHeader(gbswire.SecretUpload, uploadSecret)},
		bufs:    data, ctype: "application/octet-stream", bulk: n > smallBody,
		headers: map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/*", offset, offset+n-1)},
		retry:   true,
	}, &resp, http.StatusOK, http.StatusCreated)
	if err != nil {
		return storage.WriteResult{}, err
	}
	if code == http.StatusCreated {
		return storage.WriteResult{Complete: true, Required: []storage.Range{}}, nil
	}
	return storage.WriteResult{Required: resp.Required}, nil
}

// AbortUpload implements storage.Server.
func (c *Client) AbortUpload(ctx context.Context, si storage.StorageIndex, shnum int, uploadSecret []byte) error {
	_, err := c.call(ctx, request{
		method: "PUT", path: fmt.Sprintf("/storage/v1/immutable/%s/%d/abort", si, shnum),
		secrets: [][2]string{secretHeader(gbswire.SecretUpload, uploadSecret)},
	}, nil, http.StatusOK)
	return err
}

func (c *Client) list(ctx context.Context, kind string, si storage.StorageIndex) ([]int, error) {
	var set gbswire.ShareSet
	if _, err := c.call(ctx, request{method: "GET", path: "/storage/v1/" + kind + "/" + si.String() + "/shares", retry: true}, &set, http.StatusOK); err != nil {
		return nil, err
	}
	return set.Ints(), nil
}

// ListShares implements storage.Server.
func (c *Client) ListShares(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	return c.list(ctx, "immutable", si)
}

// ListMutableShares implements storage.Server.
func (c *Client) ListMutableShares(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	return c.list(ctx, "mutable", si)
}

// ReadShareChunk implements storage.Server.
func (c *Client) ReadShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := c.ReadShareTo(ctx, &buf, false, si, shnum, offset, length)
	return buf.Bytes(), err
}

// ReadShareChunkInto reads up to len(p) bytes at offset of an immutable
// share straight from the response into p and returns how many; fewer
// only past the end of the data.
func (c *Client) ReadShareChunkInto(ctx context.Context, si storage.StorageIndex, shnum int, offset uint64, p []byte) (int, error) {
	w := &fixedWriter{p: p}
	n, err := c.ReadShareTo(ctx, w, false, si, shnum, offset, uint64(len(p)))
	return int(n), err
}

// fixedWriter writes into a fixed buffer and refuses more than it holds.
type fixedWriter struct {
	p []byte
	n int
}

func (w *fixedWriter) Write(b []byte) (int, error) {
	k := copy(w.p[w.n:], b)
	w.n += k
	if k < len(b) {
		return k, io.ErrShortBuffer
	}
	return k, nil
}

// ReadMutableShareChunk implements storage.Server.
func (c *Client) ReadMutableShareChunk(ctx context.Context, si storage.StorageIndex, shnum int, offset, length uint64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := c.ReadShareTo(ctx, &buf, true, si, shnum, offset, length)
	return buf.Bytes(), err
}

// ReadShareTo streams up to length bytes at offset of a share into w,
// returning how many were written; past the end of the data it is short.
func (c *Client) ReadShareTo(ctx context.Context, w io.Writer, mutable bool, si storage.StorageIndex, shnum int, offset, length uint64) (int64, error) {
	if length == 0 {
		return 0, nil
	}
	kind := "immutable"
	if mutable {
		kind = "mutable"
	}
	r := request{
		method: "GET", path: fmt.Sprintf("/storage/v1/%s/%s/%d", kind, si, shnum), retry: true,
		bulk:    length > smallBody,
		headers: map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)},
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return 0, err
	}
	switch resp.StatusCode {
	case http.StatusNoContent:
		resp.Body.Close()
		return 0, nil
	case http.StatusPartialContent:
		defer resp.Body.Close()
		start, end, _, ok := gbswire.ParseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset || end > offset+length {
			return 0, fmt.Errorf("gbs GET %s: Content-Range %q does not match the request", r.path, resp.Header.Get("Content-Range"))
		}
		n, err := io.Copy(w, io.LimitReader(resp.Body, int64(end-start)))
		if err != nil {
			return n, fmt.Errorf("gbs GET %s: %w", r.path, err)
		}
		if n != int64(end-start) {
			return n, fmt.Errorf("gbs GET %s: got %d bytes, Content-Range promised %d", r.path, n, end-start)
		}
		return n, nil
	case http.StatusOK:
		// A server that ignored Range: skip to offset, take length.
		defer resp.Body.Close()
		if _, err := io.CopyN(io.Discard, resp.Body, int64(offset)); err != nil {
			return 0, nil
		}
		n, err := io.Copy(w, io.LimitReader(resp.Body, int64(length)))
		if err != nil {
			return n, fmt.Errorf("gbs GET %s: %w", r.path, err)
		}
		return n, nil
	}
	return 0, statusError(r, resp)
}

func (c *Client) corrupt(ctx context.Context, kind string, si storage.StorageIndex, shnum int, reason string) error {
	body, err := encode(gbswire.CorruptRequest{Reason: reason})
	if err != nil {
		return err
	}
	_, err = c.call(ctx, request{
		method: "POST", path: fmt.Sprintf("/storage/v1/%s/%s/%d/corrupt", kind, si, shnum),
		body: body, ctype: gbswire.MediaCBOR,
	}, nil, http.StatusOK)
	return err
}

// AdviseCorruptShare implements storage.Server.
func (c *Client) AdviseCorruptShare(ctx context.Context, si storage.StorageIndex, shnum int, reason string) error {
	return c.corrupt(ctx, "immutable", si, shnum, reason)
}

// AdviseCorruptMutableShare implements storage.Server.
func (c *Client) AdviseCorruptMutableShare(ctx context.Context, si storage.StorageIndex, shnum int, reason string) error {
	return c.corrupt(ctx, "mutable", si, shnum, reason)
}

// ReadTestWrite implements storage.Server. It is never retried: a repeat
// after a lost response would test against the new contents.
func (c *Client) ReadTestWrite(ctx context.Context, si storage.StorageIndex, secrets storage.MutableSecrets, req storage.ReadTestWriteRequest) (storage.ReadTestWriteResult, error) {
	if req.TestWriteVectors == nil {
		req.TestWriteVectors = map[uint64]storage.TestWriteVectors{}
	}
	if req.ReadVector == nil {
		req.ReadVector = []storage.ReadVector{}
	}
	for k, tw := range req.TestWriteVectors {
		if tw.Test == nil {
			tw.Test = []storage.TestVector{}
		}
		if tw.Write == nil {
			tw.Write = []storage.WriteVector{}
		}
		req.TestWriteVectors[k] = tw
	}
	body, err := encode(req)
	if err != nil {
		return storage.ReadTestWriteResult{}, err
	}
	var res storage.ReadTestWriteResult
	_, err = c.call(ctx, request{
		method: "POST", path: "/storage/v1/mutable/" + si.String() + "/read-test-write",
		secrets: append(leaseSecrets(secrets.Lease), secretHeader(gbswire.SecretWriteEnabler, secrets.WriteEnabler[:])),
		body:    body, ctype: gbswire.MediaCBOR,
	}, &res, http.StatusOK)
	return res, err
}

// AddOrRenewLease implements storage.Server; it is idempotent and retried.
func (c *Client) AddOrRenewLease(ctx context.Context, si storage.StorageIndex, lease storage.LeaseSecrets) error {
	_, err := c.call(ctx, request{
		method: "PUT", path: "/storage/v1/lease/" + si.String(),
		secrets: leaseSecrets(lease), retry: true,
	}, nil, http.StatusNoContent)
	return err
}
