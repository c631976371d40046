package node

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/expiry"
	"github.com/lafs/lafs/pkg/storage/leaselog"
)

// NodeConfig is the part of tahoe.cfg a storage node uses.
type NodeConfig struct {
	Nickname       string
	TubPort        string
	TubLocation    string
	StorageEnabled bool
	ReadOnly       bool
	ReservedSpace  int64
	StorageDir     string // absolute
	// ExpireEnabled turns on lease-based garbage collection.
	ExpireEnabled bool
	// ExpireInterval is how often the expirer runs ([storage]
	// expire.crawl_interval, a lafs extension); zero means hourly.
	ExpireInterval time.Duration
	// Expiry is the [storage] expire.* policy (pkg/storage/expiry), which
	// the disk backend's expirer applies.
	Expiry expiry.Policy
	// Backend is where the shares live: BackendDisk (StorageDir) or
	// BackendS3 (S3, with the lease records in the bucket).
	Backend string
	// S3 configures BackendS3: s3.url, s3.region, s3.bucket, s3.prefix,
	// s3.access_key_id, and the secret from private/s3secret. Its
	// SpoolDir is StorageDir/spool.
	S3 s3.Config
	// Expire is the full expire.* policy (used with BackendS3, where the
	// lease log computes expiry).
	Expire leaselog.Policy
}

// Storage backends ([storage]backend).
const (
	BackendDisk = "disk"
	BackendS3   = "cloud.s3"
)

// S3SecretFile is where a node keeps its S3 secret access key.
const S3SecretFile = "private/s3secret"

// readS3Config reads the s3.* keys of [storage] and the secret key file.
func readS3Config(c *nodedir.Config, dir string) (s3.Config, error) {
	cfg := s3.Config{
		URL:         c.String("storage", "s3.url", ""),
		Region:      c.String("storage", "s3.region", ""),
		Bucket:      c.String("storage", "s3.bucket", ""),
		Prefix:      c.String("storage", "s3.prefix", ""),
		AccessKeyID: c.String("storage", "s3.access_key_id", ""),
	}
	if cfg.Region == "" {
		cfg.Region = s3.DefaultRegion
	}
	if cfg.URL == "" {
		// AWS's regional endpoint, as Tahoe's cloud backend defaulted to AWS.
		cfg.URL = "https://s3." + cfg.Region + ".amazonaws.com"
	}
	for _, k := range []struct{ key, v string }{{"s3.bucket", cfg.Bucket}, {"s3.access_key_id", cfg.AccessKeyID}} {
		if k.v == "" {
			return cfg, fmt.Errorf("[storage]backend = %s needs [storage]%s", BackendS3, k.key)
		}
	}
	secret, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(S3SecretFile)))
	if err != nil {
		return cfg, fmt.Errorf("[storage]backend = %s needs the secret access key in %s: %w", BackendS3, S3SecretFile, err)
	}
	cfg.SecretAccessKey = strings.TrimSpace(string(secret))
	if cfg.SecretAccessKey == "" {
		return cfg, fmt.Errorf("%s is empty", filepath.Join(dir, filepath.FromSlash(S3SecretFile)))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("[storage]: %w", err)
	}
	return cfg, nil
}

// ReadNodeConfig reads dir/tahoe.cfg.
func ReadNodeConfig(dir string) (NodeConfig, error) {
	path := filepath.Join(dir, "tahoe.cfg")
	f, err := os.Open(path)
	if err != nil {
		return NodeConfig{}, fmt.Errorf("read node configuration: %w", err)
	}
	defer f.Close()
	c, err := nodedir.ParseConfig(f, path)
	if err != nil {
		return NodeConfig{}, err
	}
	nc := NodeConfig{
		Nickname:    c.String("node", "nickname", ""),
		TubPort:     c.String("node", "tub.port", ""),
		TubLocation: c.String("node", "tub.location", ""),
		StorageDir:  filepath.Join(dir, "storage"),
	}
	if nc.StorageEnabled, err = c.Bool("storage", "enabled", true); err != nil {
		return nc, err
	}
	// An empty value means unset for these, as Tahoe's commented-out
	// defaults in a fresh tahoe.cfg are.
	if nc.ReadOnly, err = optBool(c, "storage", "readonly"); err != nil {
		return nc, err
	}
	if v := c.String("storage", "reserved_space", ""); v != "" {
		if nc.ReservedSpace, err = ParseSize(v); err != nil {
			return nc, fmt.Errorf("[storage]reserved_space: %w", err)
		}
	}
	if nc.Expiry, err = expiry.FromConfig(c); err != nil {
		return nc, err
	}
	nc.ExpireEnabled = nc.Expiry.Enabled
	// How often the expirer looks at every share: an extension of lafs's
	// (Tahoe's lease crawler paces itself), for tests and small nodes.
	if v := c.String("storage", "expire.crawl_interval", ""); v != "" {
		if nc.ExpireInterval, err = expiry.ParseDuration(v); err != nil || nc.ExpireInterval <= 0 {
			return nc, fmt.Errorf("[storage]expire.crawl_interval = %q: want a positive duration such as \"1 day\" or \"3600s\"", v)
		}
	}
	nc.Backend = c.String("storage", "backend", BackendDisk)
	switch nc.Backend {
	case BackendDisk:
	case BackendS3:
		if nc.S3, err = readS3Config(c, dir); err != nil {
			return nc, err
		}
		if nc.Expire, nc.ExpireEnabled, err = leaselog.ParsePolicy(func(k string) string { return c.String("storage", k, "") }); err != nil {
			return nc, err
		}
	default:
		return nc, fmt.Errorf("[storage]backend = %q: want %q or %q", nc.Backend, BackendDisk, BackendS3)
	}
	if v := c.String("storage", "storage_dir", ""); v != "" {
		if strings.HasPrefix(v, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				v = filepath.Join(home, v[2:])
			}
		}
		if !filepath.IsAbs(v) {
			v = filepath.Join(dir, v)
		}
		nc.StorageDir = v
	}
	nc.S3.SpoolDir = filepath.Join(nc.StorageDir, "spool")
	return nc, nil
}

// optBool reads a boolean whose empty value means false.
func optBool(c *nodedir.Config, section, key string) (bool, error) {
	if c.String(section, key, "") == "" {
		return false, nil
	}
	return c.Bool(section, key, false)
}

// ParseSize parses Tahoe's abbreviated sizes: "1000", "10k", "1G", "5MB",
// "2GiB" (k=1000, Ki=1024), case-insensitively.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("size %q: not a size", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	base := int64(1000)
	if m[3] == "i" {
		base = 1024
	}
	for i := 0; i <= strings.Index("kmgtpe", m[2]) && m[2] != ""; i++ {
		if n > math.MaxInt64/base {
			return 0, fmt.Errorf("size %q: too large", s)
		}
		n *= base
	}
	return n, nil
}

var sizeRE = regexp.MustCompile(`^(\d+)\s*([kmgtpe]?)(i?)b?$`)

// parseTubPort turns a Twisted TCP server endpoint ("tcp:PORT",
// "tcp:PORT:interface=ADDR", "tcp:port=PORT:interface=ADDR"; the first of a
// comma-separated list) into a listen address.
func parseTubPort(p string) (string, error) {
	first, _, _ := strings.Cut(p, ",")
	parts := strings.Split(strings.TrimSpace(first), ":")
	if len(parts) < 2 || parts[0] != "tcp" {
		return "", fmt.Errorf("unsupported endpoint %q (want tcp:PORT[:interface=ADDR])", p)
	}
	portS, host := "", ""
	for i, arg := range parts[1:] {
		k, v, kw := strings.Cut(arg, "=")
		switch {
		case !kw && i == 0:
			portS = arg
		case kw && k == "port":
			portS = v
		case kw && k == "interface":
			host = v
		case kw && k == "backlog":
		default:
			return "", fmt.Errorf("endpoint %q: unexpected %q", p, arg)
		}
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port < 0 || port > 65535 {
		return "", fmt.Errorf("endpoint %q: bad port", p)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// advertisedHost picks the host of the first tcp: hint in tub.location.
func advertisedHost(location string, listenAddr net.Addr) (string, int) {
	port := listenAddr.(*net.TCPAddr).Port
	for _, hint := range strings.Split(location, ",") {
		hint = strings.TrimSpace(hint)
		if rest, ok := strings.CutPrefix(hint, "tcp:"); ok {
			h, p, err := net.SplitHostPort(rest)
			if err == nil {
				if n, err := strconv.Atoi(p); err == nil {
					return h, n
				}
			}
		}
	}
	host := listenAddr.(*net.TCPAddr).IP.String()
	if ip := listenAddr.(*net.TCPAddr).IP; ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return host, port
}

// CreateContainer creates the bucket a cloud.s3 node in dir keeps its
// shares in (`tahoe admin create-container`) and returns a description of
// it ("s3://BUCKET at URL"); a bucket that exists already and is ours is
// not an error.
func CreateContainer(ctx context.Context, dir string) (string, error) {
	nc, err := ReadNodeConfig(dir)
	if err != nil {
		return "", err
	}
	if nc.Backend != BackendS3 {
		return "", fmt.Errorf("%s keeps its shares on disk ([storage]backend = %s): there is no container to create", dir, nc.Backend)
	}
	if err := s3.CreateBucket(ctx, nc.S3); err != nil {
		return "", err
	}
	return "s3://" + nc.S3.Bucket + " at " + nc.S3.URL, nil
}
