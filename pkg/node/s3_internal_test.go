package node

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/leaselog"
)

func TestReadS3Config(t *testing.T) {
	base := "[node]\ntub.port = tcp:0\n[storage]\nenabled = true\n"
	full := base + "backend = cloud.s3\ns3.url = http://127.0.0.1:9000\ns3.region = eu-west-1\ns3.bucket = shares\ns3.prefix = grid/n1\ns3.access_key_id = AKIA\n"
	for _, tc := range []struct {
		name, cfg, secret string
		err               string
		check             func(t *testing.T, nc NodeConfig)
	}{
		{name: "disk by default", cfg: base, check: func(t *testing.T, nc NodeConfig) {
			if nc.Backend != BackendDisk {
				t.Errorf("Backend = %q", nc.Backend)
			}
		}},
		{name: "s3", cfg: full, secret: "sekrit\n", check: func(t *testing.T, nc NodeConfig) {
			c := nc.S3
			if nc.Backend != BackendS3 || c.URL != "http://127.0.0.1:9000" || c.Region != "eu-west-1" || c.Bucket != "shares" ||
				c.Prefix != "grid/n1" || c.AccessKeyID != "AKIA" || c.SecretAccessKey != "sekrit" || c.SpoolDir != filepath.Join(nc.StorageDir, "spool") {
				t.Errorf("S3 config = %+v", c)
			}
		}},
		{name: "s3 AWS defaults", cfg: base + "backend = cloud.s3\ns3.bucket = b\ns3.access_key_id = AKIA\n", secret: "x", check: func(t *testing.T, nc NodeConfig) {
			if nc.S3.URL != "https://s3.us-east-1.amazonaws.com" || nc.S3.Region != "us-east-1" {
				t.Errorf("defaults: %+v", nc.S3)
			}
		}},
		{name: "s3 cutoff-date expiry", cfg: full + "expire.enabled = true\nexpire.mode = cutoff-date\nexpire.cutoff_date = 2026-01-01\nexpire.immutable = false\n", secret: "x",
			check: func(t *testing.T, nc NodeConfig) {
				if !nc.ExpireEnabled || nc.Expire.Mode != leaselog.ModeCutoffDate || nc.Expire.Immutable || !nc.Expire.Mutable {
					t.Errorf("expiry = %v %+v", nc.ExpireEnabled, nc.Expire)
				}
			}},
		{name: "s3 override duration", cfg: full + "expire.enabled = true\nexpire.mode = age\nexpire.override_lease_duration = 60 days\n", secret: "x",
			check: func(t *testing.T, nc NodeConfig) {
				if nc.Expire.OverrideLeaseDuration != 60*24*time.Hour {
					t.Errorf("override = %v", nc.Expire.OverrideLeaseDuration)
				}
			}},
		{name: "no secret file", cfg: full, err: "private/s3secret"},
		{name: "empty secret", cfg: full, secret: "\n", err: "is empty"},
		{name: "no bucket", cfg: base + "backend = cloud.s3\ns3.access_key_id = AKIA\n", secret: "x", err: "s3.bucket"},
		{name: "no key id", cfg: base + "backend = cloud.s3\ns3.bucket = b\n", secret: "x", err: "s3.access_key_id"},
		{name: "bad prefix", cfg: full + "s3.prefix = /x\n", secret: "x", err: "prefix"},
		{name: "bad url", cfg: base + "backend = cloud.s3\ns3.url = ftp://x\ns3.bucket = b\ns3.access_key_id = A\n", secret: "x", err: "http(s)"},
		{name: "unknown backend", cfg: base + "backend = cloud.azure\n", err: "want \"disk\" or \"cloud.s3\""},
		{name: "bad expiry", cfg: full + "expire.enabled = true\nexpire.mode = sometimes\n", secret: "x", err: "expire.mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "private"), 0o700)
			if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte(tc.cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				os.WriteFile(filepath.Join(dir, "private", "s3secret"), []byte(tc.secret), 0o600)
			}
			nc, err := ReadNodeConfig(dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ReadNodeConfig = %v, want an error about %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, nc)
		})
	}
}

// s3Node is a storage node on S3 run in process.
type s3Node struct {
	dir    string
	cfg    s3.Config
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
	client *gbs.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// createS3Node makes a node directory on a new bucket of srv; extra is
// added to [storage].
func createS3Node(t *testing.T, srv *s3test.Server, extra string) (string, s3.Config) {
	t.Helper()
	cfg := s3.Config{
		URL: srv.URL, Region: srv.Region, Bucket: s3test.BucketName(), Prefix: "node",
		AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey, Attempts: 1,
	}
	if err := s3.CreateBucket(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "node")
	opts := NewNodeOptions()
	opts.Hostname = "127.0.0.1"
	opts.WebPort = "none"
	opts.S3 = &cfg
	if err := CreateNode(dir, opts); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		path := filepath.Join(dir, "tahoe.cfg")
		b, _ := os.ReadFile(path)
		b = bytes.Replace(b, []byte("#expire.enabled =\n#expire.mode =\n"), []byte(extra), 1)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, cfg
}

// startS3Node runs the node with GC every expireEvery.
func startS3Node(t *testing.T, dir string, expireEvery time.Duration) *s3Node {
	t.Helper()
	os.Remove(filepath.Join(dir, "private", "storage.nurl"))
	n := &s3Node{dir: dir, log: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	logger := slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		n.done <- runNode(ctx, dir, logger, runHooks{
			serve: func(ctx context.Context, ln net.Listener, h *gbsserver.Server, id *Identity) error {
				return gbsserver.ServeTLS(ctx, ln, h, id.Certificate)
			},
			maintain: maintain,
			every:    maintenanceIntervals{idle: time.Minute, expire: expireEvery},
		})
	}()
	var nurl string
	for i := 0; i < 1000 && nurl == ""; i++ {
		select {
		case err := <-n.done:
			t.Fatalf("node exited: %v\n%s", err, n.log)
		default:
		}
		if b, err := os.ReadFile(filepath.Join(dir, "private", "storage.nurl")); err == nil {
			nurl = strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if nurl == "" {
		t.Fatalf("node did not start:\n%s", n.log)
	}
	c, err := gbs.New(nurl, gbs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n.client = c
	t.Cleanup(func() { n.stop(t) })
	return n
}

func (n *s3Node) stop(t *testing.T) {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	n.client.Close()
	if err := <-n.done; err != nil {
		t.Errorf("node: %v", err)
	}
}

func putShare(t *testing.T, c *gbs.Client, si storage.StorageIndex, lease storage.LeaseSecrets, data []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.AllocateBuckets(ctx, si, lease, []byte("up"), []int{0}, uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if wr, err := c.WriteShareChunk(ctx, si, 0, []byte("up"), 0, data); err != nil || !wr.Complete {
		t.Fatalf("write: %+v, %v", wr, err)
	}
}

func shareCount(t *testing.T, c *gbs.Client, si storage.StorageIndex) int {
	t.Helper()
	got, err := c.ListShares(context.Background(), si)
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

var leasesLoaded = regexp.MustCompile(`lease log loaded" leases=(\d+)`)

// TestS3NodeLeases: a node on S3 keeps its leases in the bucket. With
// expiry on and a 3-second lease duration, renewed shares stay and
// unrenewed ones are collected; after the local lease cache is deleted the
// restarted node rebuilds it from the bucket, and the rebuilt leases drive
// expiry as before.
func TestS3NodeLeases(t *testing.T) {
	srv := s3test.Start(t)
	dir, cfg := createS3Node(t, srv, "expire.enabled = true\nexpire.mode = age\nexpire.override_lease_duration = 3s\n")
	n := startS3Node(t, dir, 200*time.Millisecond)
	ctx := context.Background()
	kept, dropped, later := storage.StorageIndex{1}, storage.StorageIndex{2}, storage.StorageIndex{3}
	a := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
	putShare(t, n.client, kept, a, []byte("renewed share"))
	putShare(t, n.client, dropped, a, []byte("abandoned share"))
	deadline := time.Now().Add(15 * time.Second)
	for shareCount(t, n.client, dropped) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the unrenewed share was not collected:\n%s", n.log)
		}
		if err := n.client.AddOrRenewLease(ctx, kept, a); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if shareCount(t, n.client, kept) != 1 {
		t.Fatal("the renewed share was collected")
	}
	putShare(t, n.client, later, a, []byte("leased just before the restart"))
	if err := n.client.AddOrRenewLease(ctx, kept, a); err != nil {
		t.Fatal(err)
	}
	n.stop(t)

	// The node loses its lease cache (say, its local disk).
	cache := filepath.Join(dir, "storage", LeaseCacheFile)
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no lease cache at %s: %v", cache, err)
	}
	if err := leaselog.RemoveCache(cache); err != nil {
		t.Fatal(err)
	}
	n = startS3Node(t, dir, 200*time.Millisecond)
	m := leasesLoaded.FindStringSubmatch(n.log.String())
	if m == nil || m[1] != "2" {
		t.Fatalf("restarted node loaded %v leases, want 2 (kept and later):\n%s", m, n.log)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("the lease cache was not rebuilt: %v", err)
	}
	// No renewals now: both run out and are collected, from the rebuilt
	// records alone.
	deadline = time.Now().Add(15 * time.Second)
	for shareCount(t, n.client, later)+shareCount(t, n.client, kept) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("shares leased before the restart were never collected:\n%s", n.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The bucket holds no share of the collected indexes.
	b, err := s3.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, si := range []storage.StorageIndex{kept, dropped, later} {
		if got, err := b.List(ctx, si); err != nil || len(got) != 0 {
			t.Errorf("bucket still lists %v of %s (%v)", got, si, err)
		}
	}
}

// TestS3NodeOutage: with S3 stopped the node keeps running and answers
// with a clear 503; once S3 is back it serves again.
func TestS3NodeOutage(t *testing.T) {
	srv := s3test.Start(t)
	dir, _ := createS3Node(t, srv, "")
	n := startS3Node(t, dir, time.Hour)
	ctx := context.Background()
	lease := storage.LeaseSecrets{Renew: [32]byte{1}}
	si := storage.StorageIndex{9}
	putShare(t, n.client, si, lease, []byte("before the outage"))
	other, _ := createS3Node(t, srv, "")

	srv.Stop(t)
	if _, err := n.client.Version(ctx); err != nil {
		t.Errorf("the node stopped answering: %v", err)
	}
	_, err := n.client.ReadShareChunk(ctx, storage.StorageIndex{10}, 0, 0, 10)
	if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "share backend is unavailable; try again later") {
		t.Errorf("read with S3 down: %v", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("the client is told the node's S3 endpoint: %v", err)
	}
	if _, err := n.client.AllocateBuckets(ctx, storage.StorageIndex{11}, lease, []byte("u"), []int{0}, 10); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("allocate with S3 down: %v", err)
	}
	if !strings.Contains(n.log.String(), "S3 service unavailable at "+srv.URL) {
		t.Errorf("the node's log does not say what failed:\n%s", n.log)
	}

	// A node cannot start while its bucket is unreachable, and says why.
	err = runNode(ctx, other, slog.New(slog.DiscardHandler), runHooks{
		serve: func(context.Context, net.Listener, *gbsserver.Server, *Identity) error {
			return errors.New("started with S3 down")
		},
		maintain: maintain, every: maintenanceIntervals{idle: time.Minute, expire: time.Hour},
	})
	if !errors.Is(err, s3.ErrUnavailable) || !strings.Contains(err.Error(), "check bucket") {
		t.Errorf("starting a node with S3 down: %v", err)
	}
	srv.Restart(t)
	got, err := n.client.ReadShareChunk(ctx, si, 0, 0, 100)
	if err != nil || string(got) != "before the outage" {
		t.Fatalf("after the outage: %q, %v", got, err)
	}
	putShare(t, n.client, storage.StorageIndex{12}, lease, []byte("after the outage"))
}
