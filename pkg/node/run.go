package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/expiry"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/leasedb"
	"github.com/lafs/lafs/pkg/storage/leaselog"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// RunNode runs the storage node in dir until ctx is cancelled (the caller
// maps SIGINT/SIGTERM onto ctx with signal.NotifyContext). It serves GBS on
// tub.port, and writes private/storage.nurl, private/storage.furl and a
// ready-to-paste private/servers.yaml.entry once listening.
func RunNode(ctx context.Context, dir string, logger *slog.Logger) error {
	return runNode(ctx, dir, logger, runHooks{
		serve: func(ctx context.Context, ln net.Listener, h *gbsserver.Server, id *Identity) error {
			return gbsserver.ServeTLS(ctx, ln, h, id.Certificate)
		},
		maintain: maintain,
		every:    maintenanceIntervals{idle: time.Minute, expire: time.Hour},
	})
}

// runHooks are the parts of RunNode a test replaces.
type runHooks struct {
	serve    func(ctx context.Context, ln net.Listener, h *gbsserver.Server, id *Identity) error
	maintain func(ctx context.Context, store *shares.Store, policy expiry.Policy, logger *slog.Logger, every maintenanceIntervals)
	every    maintenanceIntervals
}

func runNode(ctx context.Context, dir string, logger *slog.Logger, hooks runHooks) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Files that say "this node is listening" appear only once it is.
	for _, name := range []string{"storage.nurl", "servers.yaml.entry"} {
		if err := os.Remove(filepath.Join(dir, "private", name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", name, err)
		}
	}
	cfg, err := ReadNodeConfig(dir)
	if err != nil {
		return err
	}
	id, err := LoadIdentity(dir)
	if err != nil {
		return err
	}
	if !cfg.StorageEnabled {
		logger.Info("storage is disabled in tahoe.cfg; nothing to serve")
		<-ctx.Done()
		return nil
	}
	if cfg.TubPort == "" || cfg.TubPort == "disabled" {
		return fmt.Errorf("config error: storage is enabled, but tub is not listening ('tub.port=' is empty)")
	}
	addr, err := parseTubPort(cfg.TubPort)
	if err != nil {
		return fmt.Errorf("[node]tub.port: %w", err)
	}
	opened, err := openStore(ctx, cfg, id, logger)
	if err != nil {
		return err
	}
	defer opened.close()
	store := opened.store
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	host, port := advertisedHost(cfg.TubLocation, ln.Addr())
	nurl := gbswire.NURL{SPKIHash: id.SPKIHash(), Host: host, Port: port, Swissnum: id.Swissnum}
	furl := gbswire.FURL(id.TubID(), host, port, id.Swissnum)
	entry, err := ServersYAML(id.ServerID(), ServerAnnouncement{
		Nickname:        cfg.Nickname,
		PermutationSeed: id.PermutationSeed,
		FURL:            furl,
		NURLs:           []string{nurl.String()},
	})
	if err != nil {
		ln.Close()
		return err
	}
	for _, f := range []struct {
		name    string
		content []byte
	}{
		{"storage.furl", []byte(furl + "\n")},
		{"storage.nurl", []byte(nurl.String() + "\n")},
		{"servers.yaml.entry", entry},
	} {
		if err := nodedir.WriteFileAtomic(filepath.Join(dir, "private", f.name), f.content, 0o600); err != nil {
			ln.Close()
			return err
		}
	}
	// The swissnum is a secret: the log names the service without it (the
	// full NURL is in private/storage.nurl).
	logger.Info("storage server listening", "address", ln.Addr().String(), "nurl", nurl.Redacted(), "server_id", id.ServerID())

	// The maintenance loop stops with the server and is joined before the
	// store and the lease database it uses are closed (the defers above).
	if cfg.ExpireInterval > 0 {
		hooks.every.expire = cfg.ExpireInterval
	}
	mctx, stopMaintenance := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hooks.maintain(mctx, store, cfg.Expiry, logger, hooks.every)
	}()
	if opened.leaseLog != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			compactLeaseLog(mctx, opened.leaseLog, logger, hooks.every.expire)
		}()
	}
	h := gbsserver.New(store, id.Swissnum, gbsserver.Options{Logger: logger})
	err = hooks.serve(ctx, ln, h, id)
	stopMaintenance()
	wg.Wait()
	if err != nil {
		return err
	}
	logger.Info("storage server stopped")
	return nil
}

type maintenanceIntervals struct{ idle, expire time.Duration }

// openedStore is the share store a node serves and what it is built on.
type openedStore struct {
	store    *shares.Store
	leaseLog *leaselog.Store // BackendS3 only
	closers  []func() error  // in closing order
}

func (o *openedStore) close() {
	for _, c := range o.closers {
		_ = c()
	}
}

// openStore opens the configured backend and the share store over it: on
// disk with the SQLite lease database, or on S3 with the lease log kept in
// the bucket and a local cache of it.
func openStore(ctx context.Context, cfg NodeConfig, id *Identity, logger *slog.Logger) (*openedStore, error) {
	opts := shares.Options{
		NodeID:             id.NodeID(),
		ReservedSpace:      cfg.ReservedSpace,
		ReadOnly:           cfg.ReadOnly,
		ApplicationVersion: ApplicationVersion,
		Logger:             logger,
	}
	if cfg.Backend == BackendS3 {
		return openS3Store(ctx, cfg, opts, logger)
	}
	b, err := disk.Open(cfg.StorageDir)
	if err != nil {
		return nil, err
	}
	leases, err := leasedb.Open(ctx, filepath.Join(cfg.StorageDir, "leasedb.sqlite"), b, time.Now())
	if err != nil {
		b.Close()
		return nil, err
	}
	opts.Leases = leases
	store := shares.New(b, opts)
	return &openedStore{store: store, closers: []func() error{store.Close, leases.Close, b.Close}}, nil
}

// LeaseCacheFile is the S3 backend's local lease cache, under the storage
// directory: it may be deleted at any time (the node rebuilds it from the
// bucket when it starts).
const LeaseCacheFile = "leases-cache.sqlite"

func openS3Store(ctx context.Context, cfg NodeConfig, opts shares.Options, logger *slog.Logger) (*openedStore, error) {
	if err := os.MkdirAll(cfg.S3.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the upload spool: %w", err)
	}
	b, err := s3.Open(cfg.S3)
	if err != nil {
		return nil, err
	}
	if err := b.Check(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if n, err := b.AbortStaleUploads(ctx, 24*time.Hour); err != nil {
		logger.Warn("abort stale multipart uploads", "err", err)
	} else if n > 0 {
		logger.Info("aborted stale multipart uploads", "count", n)
	}
	cache := filepath.Join(cfg.StorageDir, LeaseCacheFile)
	ll, err := leaselog.Open(ctx, b, leaselog.Options{CachePath: cache})
	if err != nil && !errors.Is(err, s3.ErrUnavailable) && ctx.Err() == nil {
		// The cache is only a cache: a damaged one is dropped and rebuilt.
		logger.Warn("lease cache unusable; rebuilding it from the bucket", "err", err)
		if rerr := leaselog.RemoveCache(cache); rerr == nil {
			ll, err = leaselog.Open(ctx, b, leaselog.Options{CachePath: cache})
		}
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	if c, err := ll.Count(ctx); err == nil {
		logger.Info("lease log loaded", "leases", c.Leases, "storage_indexes", c.StorageIndexes, "log_objects", c.LogObjects)
	}
	opts.LeaseLog = leaselog.Recorder{Store: ll, Policy: cfg.Expire}
	store := shares.New(b, opts)
	logger.Info("shares on S3", "endpoint", cfg.S3.URL, "bucket", cfg.S3.Bucket, "prefix", cfg.S3.Prefix)
	return &openedStore{store: store, leaseLog: ll, closers: []func() error{store.Close, ll.Close, b.Close}}, nil
}

// compactLeaseLog folds the lease log into a snapshot at start (the log
// objects read to rebuild the cache need not be read again next time) and
// then every interval, so rebuilding the cache stays cheap, until ctx ends.
func compactLeaseLog(ctx context.Context, ll *leaselog.Store, logger *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := ll.Compact(ctx); err != nil && ctx.Err() == nil {
			logger.Error("lease log compaction", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maintain aborts idle uploads every minute and, when expiry is enabled,
// deletes shares whose leases have all expired under the policy every
// hour, until ctx ends.
func maintain(ctx context.Context, store *shares.Store, policy expiry.Policy, logger *slog.Logger, every maintenanceIntervals) {
	idle := time.NewTicker(every.idle)
	defer idle.Stop()
	expire := time.NewTicker(every.expire)
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			store.AbortIdleUploads(30 * time.Minute)
		case <-expire.C:
			if !policy.Enabled {
				continue
			}
			if n, err := store.ExpireByPolicy(ctx, policy, time.Now()); err != nil && ctx.Err() == nil {
				logger.Error("lease expiry", "err", err)
			} else if n > 0 {
				logger.Info("expired shares", "count", n)
			}
		}
	}
}

// ApplicationVersion is what the version message reports.
const ApplicationVersion = "lafs/0.1 (tahoe-lafs-compatible storage)"
