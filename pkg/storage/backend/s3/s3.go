// Package s3 is the share backend (backend.Backend) over any S3-compatible
// object store, through the AWS SDK for Go v2. Keys are laid out like the
// disk backend's files, under an optional prefix:
//
//	[PREFIX/]shares/<first 2 chars of SI>/<SI>/<share number>   one object per committed container
//	[PREFIX/]<key>                                              auxiliary objects (leases, corruption advisories)
//
// A created container is spooled to an unlinked local temporary file and
// published by Commit as one PUT with If-None-Match: * (or, above
// Config.PartSize, a multipart upload whose completion carries
// If-None-Match: *), so a reader never sees a partial share and Commit never
// replaces a committed one: a crash before Commit leaves nothing in the
// bucket but, at worst, an incomplete multipart upload (AbortStaleUploads, or
// the bucket's lifecycle rule, removes it).
//
// Edit downloads the container into a spool and Commit replaces it with a
// PUT carrying If-Match on the ETag the download saw: when another writer
// changed (or removed) the object in between, nothing is written and Commit
// fails with backend.ErrConflict, so a concurrent writer's update is never
// lost. This needs a service that honours conditional writes (AWS S3 since
// 2024, versitygw, MinIO, Ceph RGW recent releases); on one that ignores
// them the guarantee is only Lock's.
//
// Lock is in process only. Two processes sharing a bucket prefix are not
// serialised by it; what still holds across them is the conditional PUTs:
// two creators of a share cannot both commit, and an edit based on a stale
// copy fails with ErrConflict rather than overwrite. One storage node per
// bucket prefix is the supported arrangement.
//
// Readers fetch ranges (at least Config.ReadAhead bytes per GET, the last
// window kept) with If-Match on the ETag seen at Open, so a reader never
// mixes two versions of a container. A reader may outlive the request that
// opened it (the share store caches open readers), so its GETs carry the
// values of Open's context but not its cancellation, each bounded by
// Config.RequestTimeout instead. FreeSpace is backend.UnknownSpace.
//
// When the service cannot be reached, or answers 5xx, errors wrap
// ErrUnavailable and name the operation and key; the backend holds no state
// that an outage breaks, so it works again as soon as the service returns.
// It knows nothing of container formats or leases.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// ErrUnavailable is wrapped by the errors of requests the S3 service did
// not answer (connection refused, timeouts) or answered with a server error
// (5xx) after the client's retries. It matches storage.ErrUnavailable too,
// so the GBS server answers 503.
var ErrUnavailable error = unavailableError{}

type unavailableError struct{}

func (unavailableError) Error() string        { return "S3 service unavailable" }
func (unavailableError) Is(target error) bool { return target == storage.ErrUnavailable }

// Defaults for Config's zero values.
const (
	DefaultRegion    = "us-east-1"
	DefaultPartSize  = 32 << 20
	DefaultReadAhead = 1 << 20
	DefaultAttempts  = 3
	// DefaultMaxContainerSize is 64 GiB.
	DefaultMaxContainerSize = 64 << 30
	minPartSize             = 5 << 20 // S3's minimum for all parts but the last
	maxParallelParts        = 4
)

// Config says where the shares live and how to reach the service.
type Config struct {
	// URL is the service endpoint, such as https://s3.eu-west-1.amazonaws.com
	// or http://127.0.0.1:7070. Required.
	URL string
	// Region is the signing region; "" means DefaultRegion.
	Region string
	// Bucket holds the shares. Required.
	Bucket string
	// Prefix, when not empty, is prepended (with a '/') to every key: one
	// bucket can hold several stores. It has the form of an auxiliary key.
	Prefix string
	// AccessKeyID and SecretAccessKey are the credentials.
	AccessKeyID, SecretAccessKey string
	// SpoolDir holds the temporary files of containers being created or
	// edited; "" means os.TempDir(). The files are unlinked as soon as they
	// are made.
	SpoolDir string
	// PartSize: containers larger than this are committed as multipart
	// uploads in parts of this size (at least 5 MiB); 0 means
	// DefaultPartSize.
	PartSize int64
	// ReadAhead is the least a reader fetches per GET; 0 means
	// DefaultReadAhead.
	ReadAhead int
	// Attempts is how many times a request is tried before its error is
	// returned; 0 means DefaultAttempts.
	Attempts int
	// MaxContainerSize bounds a container: writes beyond it (and creates
	// hinting a larger size) fail with storage.ErrTooLarge, so a client
	// cannot make the node spool and upload unbounded objects (an object
	// store reports no free space to stop it). 0 means
	// DefaultMaxContainerSize.
	MaxContainerSize int64
	// RequestTimeout bounds each GET of a reader (whose context outlives
	// cancellation, see the package documentation); 0 means two minutes.
	RequestTimeout time.Duration
	// VirtualHosted addresses buckets as BUCKET.host rather than host/BUCKET
	// (path style, the default: it works with every S3-compatible service).
	VirtualHosted bool
	// HTTPClient, when set, carries the requests.
	HTTPClient *http.Client
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("s3: no endpoint URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("s3: endpoint URL %q is not an http(s) URL", c.URL)
	}
	if c.Bucket == "" {
		return errors.New("s3: no bucket")
	}
	if c.Prefix != "" && !backend.ValidAuxKey(c.Prefix) {
		return fmt.Errorf("s3: prefix %q is not valid: '/'-separated components of [A-Za-z0-9._-], not starting with shares", c.Prefix)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return errors.New("s3: missing access key id or secret access key")
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		return fmt.Errorf("s3: part size %d is below S3's minimum of 5 MiB", c.PartSize)
	}
	return nil
}

// Backend is a backend.Backend over one bucket (and prefix).
type Backend struct {
	cfg    Config
	client *awss3.Client
	prefix string // "" or "PREFIX/"

	mu     sync.Mutex
	locks  backend.Locks
	closed bool

	stats Stats
}

var _ backend.Backend = (*Backend)(nil)

// Stats counts the requests a Backend has sent, by kind (each attempt of a
// retried request counts once).
type Stats struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Snapshot returns the counts so far, by operation name (PutObject,
// GetObject, ...).
func (s *Stats) Snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

func (s *Stats) add(op string) {
	s.mu.Lock()
	if s.counts == nil {
		s.counts = map[string]int64{}
	}
	s.counts[op]++
	s.mu.Unlock()
}

// Open returns a backend for cfg. It sends no request: a service that is
// down at start is reported by the first operation (or by Check).
func Open(cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.ReadAhead <= 0 {
		cfg.ReadAhead = DefaultReadAhead
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if cfg.MaxContainerSize <= 0 {
		cfg.MaxContainerSize = DefaultMaxContainerSize
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	b := &Backend{cfg: cfg}
	if cfg.Prefix != "" {
		b.prefix = cfg.Prefix + "/"
	}
	key, secret := cfg.AccessKeyID, cfg.SecretAccessKey
	opts := awss3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.URL),
		UsePathStyle: !cfg.VirtualHosted,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, Source: "lafs"}, nil
		}),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.Attempts
			o.MaxBackoff = 500 * time.Millisecond
			// No client-side retry quota: after an outage the first
			// requests must go out, not fail on an empty token bucket.
			o.RateLimiter = ratelimit.None
		}),
		// Checksums only where S3 requires them: plain Content-Length
		// bodies work with every S3-compatible service.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		APIOptions:                 []func(*middleware.Stack) error{b.countRequests},
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	b.client = awss3.New(opts)
	return b, nil
}

// Stats returns the backend's request counters.
func (b *Backend) Stats() *Stats { return &b.stats }

// Config is the configuration the backend runs with (defaults filled in).
func (b *Backend) Config() Config { return b.cfg }

// CreateBucket creates cfg's bucket (`tahoe admin create-container`); a
// bucket that already exists and is ours is not an error.
func CreateBucket(ctx context.Context, cfg Config) error {
	b, err := Open(cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	in := &awss3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}
	if b.cfg.Region != DefaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.cfg.Region)}
	}
	_, err = b.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return b.wrap("create bucket", "", err)
	}
	return nil
}

// Check asks the service whether the bucket exists and is reachable with
// the credentials.
func (b *Backend) Check(ctx context.Context) error {
	if _, err := b.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(b.cfg.Bucket)}); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("s3: bucket %q does not exist at %s (create it with `tahoe admin create-container`): %w", b.cfg.Bucket, b.cfg.URL, err)
		}
		return b.wrap("check bucket", "", err)
	}
	return nil
}

// Close implements backend.Backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if c, ok := b.client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return nil
}

// countRequests adds a middleware after the retry loop, so it counts every
// attempt sent.
func (b *Backend) countRequests(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("lafsCountRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			b.stats.add(awsmiddleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (b *Backend) check(ctx context.Context, shnum int) error {
	if err := backend.CheckShare(ctx, shnum); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return backend.ErrClosed
	}
	return nil
}

// bucketPrefix is the key prefix of si's containers, ending in '/'.
func (b *Backend) bucketPrefix(si storage.StorageIndex) string {
	return b.prefix + "shares/" + backend.BucketPath(si) + "/"
}

// ShareKey is the object key of share shnum of si.
func (b *Backend) ShareKey(si storage.StorageIndex, shnum int) string {
	return b.bucketPrefix(si) + strconv.Itoa(shnum)
}

func (b *Backend) auxKey(key string) string { return b.prefix + key }

// wrap gives an SDK error its context: the operation, the key, and
// ErrUnavailable when the service was not reachable or failed.
func (b *Backend) wrap(op, key string, err error) error {
	where := "s3://" + b.cfg.Bucket + "/" + key
	if key == "" {
		where = "s3://" + b.cfg.Bucket
	}
	if ctxErr := contextError(err); ctxErr != nil {
		return fmt.Errorf("s3: %s %s: %w", op, where, ctxErr)
	}
	if unavailable(err) {
		return fmt.Errorf("s3: %s %s: %w at %s: %w", op, where, ErrUnavailable, b.cfg.URL, err)
	}
	return fmt.Errorf("s3: %s %s: %w", op, where, err)
}

func contextError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

func unavailable(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var ne net.Error
	var oe *net.OpError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func statusCode(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || statusCode(err) == http.StatusNotFound
}

// isPreconditionFailed: a conditional write or read lost (412), or the
// service saw a concurrent conditional write (409 ConditionalRequestConflict).
func isPreconditionFailed(err error) bool {
	switch statusCode(err) {
	case http.StatusPreconditionFailed:
		return true
	case http.StatusConflict:
		return apiCode(err) == "ConditionalRequestConflict"
	}
	return apiCode(err) == "PreconditionFailed"
}

// Create implements backend.Backend: the container is spooled locally
// until Commit. The backend does not track other writers of the same name
// (they may be other processes): Commit lets exactly one of them win.
func (b *Backend) Create(ctx context.Context, si storage.StorageIndex, shnum int, sizeHint int64) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	if sizeHint > b.cfg.MaxContainerSize {
		return nil, fmt.Errorf("s3: a %d-byte container is over the %d-byte limit: %w", sizeHint, b.cfg.MaxContainerSize, storage.ErrTooLarge)
	}
	f, err := b.spool()
	if err != nil {
		return nil, err
	}
	return b.newWriter(ctx, b.ShareKey(si, shnum), f, sizeHint), nil
}

// spool makes an unlinked temporary file.
func (b *Backend) spool() (*os.File, error) {
	f, err := os.CreateTemp(b.cfg.SpoolDir, ".lafs-s3-spool-*")
	if err != nil {
		return nil, fmt.Errorf("s3: spool file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("s3: spool file: %w", err)
	}
	return f, nil
}

// Open implements backend.Backend: one ranged GET fetches the size, the
// ETag and the first window.
func (b *Backend) Open(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Reader, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	key := b.ShareKey(si, shnum)
	r := &reader{b: b, ctx: context.WithoutCancel(ctx), key: key}
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(b.cfg.Bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=0-%d", b.firstWindow()-1)),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("s3: open %s: %w", key, backend.ErrNotExist)
		}
		if statusCode(err) == http.StatusRequestedRangeNotSatisfiable {
			return b.openEmpty(ctx, key)
		}
		return nil, b.wrap("open", key, err)
	}
	defer out.Body.Close()
	size, err := totalSize(out)
	if err != nil {
		return nil, b.wrap("open", key, err)
	}
	r.size, r.etag = size, aws.ToString(out.ETag)
	first, err := io.ReadAll(io.LimitReader(out.Body, int64(b.firstWindow())))
	if err != nil {
		return nil, b.wrap("open", key, err)
	}
	r.keep(window{0, first})
	return r, nil
}

// firstWindow is what Open fetches: enough for a container's header and
// a small share whole, without reading a large share's first megabyte
// just to learn its kind.
func (b *Backend) firstWindow() int { return min(b.cfg.ReadAhead, 64<<10) }

// openEmpty handles the 416 a ranged GET of an empty object gets.
func (b *Backend) openEmpty(ctx context.Context, key string) (backend.Reader, error) {
	h, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("s3: open %s: %w", key, backend.ErrNotExist)
		}
		return nil, b.wrap("open", key, err)
	}
	if n := aws.ToInt64(h.ContentLength); n != 0 {
		return nil, fmt.Errorf("s3: open %s: range refused on a %d-byte object", key, n)
	}
	return &reader{b: b, ctx: context.WithoutCancel(ctx), key: key, etag: aws.ToString(h.ETag)}, nil
}

// totalSize reads the object's size from a ranged GET's Content-Range
// ("bytes 0-99/1234"), or its Content-Length when the range was ignored.
func totalSize(out *awss3.GetObjectOutput) (int64, error) {
	cr := aws.ToString(out.ContentRange)
	if cr == "" {
		return aws.ToInt64(out.ContentLength), nil
	}
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return 0, fmt.Errorf("bad Content-Range %q", cr)
	}
	n, err := strconv.ParseInt(cr[i+1:], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad Content-Range %q", cr)
	}
	return n, nil
}

// Edit implements backend.Backend: the object is downloaded into a spool;
// Commit writes it back with If-Match on the downloaded ETag.
func (b *Backend) Edit(ctx context.Context, si storage.StorageIndex, shnum int) (backend.Writer, error) {
	if err := b.check(ctx, shnum); err != nil {
		return nil, err
	}
	key := b.ShareKey(si, shnum)
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("s3: edit %s: %w", key, backend.ErrNotExist)
		}
		return nil, b.wrap("edit", key, err)
	}
	defer out.Body.Close()
	f, err := b.spool()
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(f, out.Body)
	if err != nil {
		f.Close()
		return nil, b.wrap("edit", key, err)
	}
	return &writer{b: b, key: key, f: f, size: n, edit: true, etag: aws.ToString(out.ETag)}, nil
}

// List implements backend.Backend.
func (b *Backend) List(ctx context.Context, si storage.StorageIndex) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pfx := b.bucketPrefix(si)
	var out []int
	err := b.listKeys(ctx, pfx, func(key string) error {
		if n, ok := backend.ParseShareNumber(key[len(pfx):]); ok {
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, b.wrap("list", pfx, err)
	}
	sort.Ints(out)
	return out, nil
}

// listKeys calls fn for every key under prefix, in key order.
func (b *Backend) listKeys(ctx context.Context, prefix string, fn func(key string) error) error {
	p := awss3.NewListObjectsV2Paginator(b.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(b.cfg.Bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Walk implements backend.Backend: one listing of shares/, in key order
// (so each storage index is visited once).
func (b *Backend) Walk(ctx context.Context, fn func(si storage.StorageIndex) error) error {
	pfx := b.prefix + "shares/"
	var last storage.StorageIndex
	seen := false
	err := b.listKeys(ctx, pfx, func(key string) error {
		// <2 chars>/<SI>/<shnum>
		parts := strings.Split(key[len(pfx):], "/")
		if len(parts) != 3 {
			return nil
		}
		si, ok := backend.ParseBucket(parts[0], parts[1])
		if !ok {
			return nil
		}
		if _, ok := backend.ParseShareNumber(parts[2]); !ok || (seen && si == last) {
			return nil
		}
		last, seen = si, true
		if err := ctx.Err(); err != nil {
			return fnError{err}
		}
		if err := fn(si); err != nil {
			return fnError{err}
		}
		return nil
	})
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	if err != nil {
		return b.wrap("walk", pfx, err)
	}
	return nil
}

// Remove implements backend.Backend: HEAD (S3's DELETE does not say
// whether there was an object), then DELETE.
func (b *Backend) Remove(ctx context.Context, si storage.StorageIndex, shnum int) error {
	if err := b.check(ctx, shnum); err != nil {
		return err
	}
	key := b.ShareKey(si, shnum)
	if _, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)}); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("s3: remove %s: %w", key, backend.ErrNotExist)
		}
		return b.wrap("remove", key, err)
	}
	if _, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)}); err != nil {
		return b.wrap("remove", key, err)
	}
	return nil
}

// Lock implements backend.Backend, in process only (see the package
// documentation for what holds across processes).
func (b *Backend) Lock(ctx context.Context, si storage.StorageIndex) (func(), error) {
	return b.locks.Lock(ctx, si)
}

// FreeSpace implements backend.Backend: an object store does not say.
func (b *Backend) FreeSpace(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return backend.UnknownSpace, nil
}

// PutAux implements backend.Backend: one PUT (S3 makes it visible whole).
func (b *Backend) PutAux(ctx context.Context, key string, data []byte) error {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return err
	}
	k := b.auxKey(key)
	_, err := b.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        aws.String(b.cfg.Bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return b.wrap("put", k, err)
	}
	return nil
}

// GetAux implements backend.Backend.
func (b *Backend) GetAux(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return nil, err
	}
	k := b.auxKey(key)
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(k)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("s3: get %s: %w", k, backend.ErrNotExist)
		}
		return nil, b.wrap("get", k, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, b.wrap("get", k, err)
	}
	return data, nil
}

// ListAux implements backend.Backend: one listing (paginated) of the
// prefix.
func (b *Backend) ListAux(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []string
	err := b.listKeys(ctx, b.prefix+prefix, func(k string) error {
		key := k[len(b.prefix):]
		if backend.ValidAuxKey(key) {
			out = append(out, key)
		}
		return nil
	})
	if err != nil {
		return nil, b.wrap("list", b.prefix+prefix, err)
	}
	sort.Strings(out)
	return out, nil
}

// DeleteAux implements backend.Backend.
func (b *Backend) DeleteAux(ctx context.Context, key string) error {
	if err := backend.CheckAuxKey(ctx, key); err != nil {
		return err
	}
	k := b.auxKey(key)
	if _, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(k)}); err != nil && !isNotFound(err) {
		return b.wrap("delete", k, err)
	}
	return nil
}

// AbortStaleUploads aborts the incomplete multipart uploads under the
// backend's prefix that were started more than age ago (left by a crash
// mid-commit; they are invisible to readers but hold space), and returns
// how many it aborted.
func (b *Backend) AbortStaleUploads(ctx context.Context, age time.Duration) (int, error) {
	cutoff := time.Now().Add(-age)
	n := 0
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.cfg.Bucket), Prefix: aws.String(b.prefix + "shares/")}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, b.wrap("list uploads", b.prefix+"shares/", err)
		}
		for _, u := range out.Uploads {
			if u.Initiated == nil || u.Initiated.After(cutoff) {
				continue
			}
			if _, err := b.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
				Bucket: aws.String(b.cfg.Bucket), Key: u.Key, UploadId: u.UploadId,
			}); err != nil && !isNotFound(err) {
				return n, b.wrap("abort upload", aws.ToString(u.Key), err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// reader reads ranges of one object version.
type reader struct {
	b    *Backend
	ctx  context.Context
	key  string
	size int64
	etag string

	mu     sync.Mutex
	wins   []window // most recently used first, at most readerWindows
	closed bool
}

// window is a fetched range of the container.
type window struct {
	off  int64
	data []byte
}

// readerWindows is how many fetched ranges a reader keeps: a download
// alternates between a share's blocks and its hash trees, which one
// window would evict each time. With ReadAhead, it bounds a reader's
// memory (the share store caches up to 64 open readers).
const readerWindows = 2

func (r *reader) Size() int64 { return r.size }

func (r *reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed, r.wins = true, nil
	return nil
}

// keep adds a window (or moves it) to the front.
func (r *reader) keep(w window) {
	for i, x := range r.wins {
		if x.off == w.off && len(x.data) == len(w.data) {
			r.wins = append(r.wins[:i], r.wins[i+1:]...)
			break
		}
	}
	r.wins = append([]window{w}, r.wins...)
	if len(r.wins) > readerWindows {
		r.wins = r.wins[:readerWindows]
	}
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, backend.ErrClosed
	}
	for _, w := range r.wins {
		if off >= w.off && off+want <= w.off+int64(len(w.data)) {
			n := copy(p[:want], w.data[off-w.off:])
			r.keep(w)
			r.mu.Unlock()
			return eof(n, len(p))
		}
	}
	r.mu.Unlock()

	end := min(r.size, off+max(want, int64(r.b.cfg.ReadAhead)))
	buf := make([]byte, end-off)
	if err := r.fetch(buf, off); err != nil {
		return 0, err
	}
	n := copy(p[:want], buf)
	r.mu.Lock()
	if !r.closed {
		r.keep(window{off, buf})
	}
	r.mu.Unlock()
	return eof(n, len(p))
}

func eof(n, want int) (int, error) {
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

func (r *reader) fetch(buf []byte, off int64) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.b.cfg.RequestTimeout)
	defer cancel()
	out, err := r.b.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket:  aws.String(r.b.cfg.Bucket),
		Key:     aws.String(r.key),
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1)),
		IfMatch: aws.String(r.etag),
	})
	if err != nil {
		if isPreconditionFailed(err) || isNotFound(err) {
			return fmt.Errorf("s3: read %s: the container changed since it was opened: %w", r.key, backend.ErrConflict)
		}
		return r.b.wrap("read", r.key, err)
	}
	defer out.Body.Close()
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		return r.b.wrap("read", r.key, err)
	}
	return nil
}
