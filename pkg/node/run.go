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
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/gbswire"
	"github.com/lafs/lafs/pkg/storage/leasedb"
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
	maintain func(ctx context.Context, store *shares.Store, expireEnabled bool, logger *slog.Logger, every maintenanceIntervals)
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
	b, err := disk.Open(cfg.StorageDir)
	if err != nil {
		return err
	}
	defer b.Close()
	leases, err := leasedb.Open(ctx, filepath.Join(cfg.StorageDir, "leasedb.sqlite"), b, time.Now())
	if err != nil {
		return err
	}
	defer leases.Close()
	store := shares.New(b, shares.Options{
		NodeID:             id.NodeID(),
		ReservedSpace:      cfg.ReservedSpace,
		ReadOnly:           cfg.ReadOnly,
		ApplicationVersion: ApplicationVersion,
		Leases:             leases,
		Logger:             logger,
	})
	defer store.Close()
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
	mctx, stopMaintenance := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hooks.maintain(mctx, store, cfg.ExpireEnabled, logger, hooks.every)
	}()
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

// maintain aborts idle uploads every minute and, when expiry is enabled,
// deletes shares whose leases have all expired every hour, until ctx ends.
func maintain(ctx context.Context, store *shares.Store, expireEnabled bool, logger *slog.Logger, every maintenanceIntervals) {
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
			if !expireEnabled {
				continue
			}
			if n, err := store.ExpireShares(ctx, time.Now()); err != nil && ctx.Err() == nil {
				logger.Error("lease expiry", "err", err)
			} else if n > 0 {
				logger.Info("expired shares", "count", n)
			}
		}
	}
}

// ApplicationVersion is what the version message reports.
const ApplicationVersion = "lafs/0.1 (tahoe-lafs-compatible storage)"
