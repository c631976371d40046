package storage

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/nodedir"
)

// ErrUsage marks errors in the options given to CreateNode: the command
// line was wrong (exit status 2), not the machine.
var ErrUsage = errors.New("usage error")

// NodeOptions are the options of `tahoe create-node`, with Tahoe's defaults
// where the zero value would differ (see NewNodeOptions).
type NodeOptions struct {
	Nickname string
	// Port and Location go together: a Twisted endpoint to listen on
	// ("tcp:PORT" or "tcp:PORT:interface=ADDR") and the hint to advertise
	// ("tcp:HOST:PORT").
	Port, Location string
	// Hostname with Listen "tcp" picks a free port and advertises HOSTNAME.
	Hostname string
	// Listen is the comma-separated listener kinds; only "tcp" and "none"
	// are supported.
	Listen string
	// WebPort is the web API endpoint; "none" disables it.
	WebPort    string
	NoStorage  bool
	StorageDir string
	// SharesNeeded, SharesHappy and SharesTotal go into [client].
	SharesNeeded, SharesHappy, SharesTotal int
}

// NewNodeOptions returns Tahoe's defaults.
func NewNodeOptions() NodeOptions {
	return NodeOptions{
		Listen:       "tcp",
		WebPort:      "tcp:3456:interface=127.0.0.1",
		SharesNeeded: 3,
		SharesHappy:  7,
		SharesTotal:  10,
	}
}

// Validate applies Tahoe's rules for the where-to-listen options.
func (o NodeOptions) Validate() error {
	listen := o.Listen
	if listen == "" {
		listen = "tcp"
	}
	if listen == "none" {
		if o.Hostname != "" {
			return fmt.Errorf("--hostname cannot be used when --listen=none: %w", ErrUsage)
		}
		if o.Port != "" || o.Location != "" {
			return fmt.Errorf("--port/--location cannot be used when --listen=none: %w", ErrUsage)
		}
		return nil
	}
	if o.Location != "" && o.Port == "" {
		return fmt.Errorf("--location must be used with --port: %w", ErrUsage)
	}
	if o.Port != "" && o.Location == "" {
		return fmt.Errorf("--port must be used with --location: %w", ErrUsage)
	}
	if o.Port != "" {
		if o.Hostname != "" {
			return fmt.Errorf("--hostname cannot be used with --location/--port: %w", ErrUsage)
		}
		if _, err := parseTubPort(o.Port); err != nil {
			return fmt.Errorf("--port: %v: %w", err, ErrUsage)
		}
		return nil
	}
	for _, l := range strings.Split(listen, ",") {
		if l != "tcp" {
			return fmt.Errorf("--listen= must be one/some of: tcp, none (got %q): %w", l, ErrUsage)
		}
	}
	if o.Hostname == "" {
		return fmt.Errorf("--listen=tcp requires --hostname=: %w", ErrUsage)
	}
	if o.SharesNeeded <= 0 || o.SharesTotal < o.SharesNeeded || o.SharesHappy <= 0 {
		return fmt.Errorf("bad encoding parameters %d/%d/%d: %w", o.SharesNeeded, o.SharesHappy, o.SharesTotal, ErrUsage)
	}
	return nil
}

// CreateNode makes a node directory as `tahoe create-node` does: tahoe.cfg
// and the node's identity (ed25519 key, TLS certificate, permutation seed,
// storage swissnum). dir must not exist or be empty.
func CreateNode(dir string, opts NodeOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("the base directory %s is not empty", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "private"), 0o700); err != nil {
		return fmt.Errorf("create node directory: %w", err)
	}
	tubPort, tubLocation := "disabled", "disabled"
	switch {
	case opts.Listen == "none":
	case opts.Port != "":
		tubPort, tubLocation = opts.Port, opts.Location
	default:
		p, err := freeTCPPort()
		if err != nil {
			return err
		}
		tubPort = "tcp:" + strconv.Itoa(p)
		tubLocation = "tcp:" + opts.Hostname + ":" + strconv.Itoa(p)
	}
	webport := opts.WebPort
	if strings.EqualFold(webport, "none") {
		webport = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# -*- mode: conf; coding: utf-8 -*-\n\n")
	fmt.Fprintf(&b, "# Node configuration, read at start-up; see Tahoe-LAFS's docs/configuration.rst.\n\n\n")
	fmt.Fprintf(&b, "[node]\nnickname = %s\nreveal-IP-address = true\nweb.port = %s\nweb.static = public_html\n", opts.Nickname, webport)
	fmt.Fprintf(&b, "tub.port = %s\ntub.location = %s\n\n", tubPort, tubLocation)
	fmt.Fprintf(&b, "[client]\nhelper.furl =\n\nshares.needed = %d\nshares.happy = %d\nshares.total = %d\n\n", opts.SharesNeeded, opts.SharesHappy, opts.SharesTotal)
	enabled := "true"
	if opts.NoStorage {
		enabled = "false"
	}
	fmt.Fprintf(&b, "[storage]\nenabled = %s\n#readonly =\nreserved_space = 1G\n", enabled)
	if opts.StorageDir != "" {
		fmt.Fprintf(&b, "storage_dir = %s\n", opts.StorageDir)
	} else {
		b.WriteString("#storage_dir =\n")
	}
	b.WriteString("#expire.enabled =\n#expire.mode =\n\n[helper]\nenabled = false\n\n")
	if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write tahoe.cfg: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tahoe-client.tac"), []byte("# Node directory marker; start the node with `tahoe run`.\n"), 0o644); err != nil {
		return fmt.Errorf("write tahoe-client.tac: %w", err)
	}
	_, err := LoadIdentity(dir)
	return err
}

func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("allocate a TCP port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Identity is a node's long-lived identity, kept in the node directory in
// Tahoe's files.
type Identity struct {
	// SigningKey is the ed25519 key (private/node.privkey).
	SigningKey ed25519.PrivateKey
	// Certificate is the TLS certificate and key (private/node.pem).
	Certificate tls.Certificate
	// PermutationSeed is the base32 seed of the permuted ring (permutation-seed).
	PermutationSeed string
	// Swissnum authorizes storage clients (from private/storage.furl).
	Swissnum string
}

// ServerID is the node's id in announcements and servers.yaml: "v0-" and
// the base32 public key.
func (id *Identity) ServerID() string {
	return "v0-" + caps.Base32Encode(id.SigningKey.Public().(ed25519.PublicKey))
}

// SPKIHash is the certificate's GBS identity.
func (id *Identity) SPKIHash() string { return SPKIHash(id.Certificate.Leaf) }

// TubID is the certificate's Foolscap tub id.
func (id *Identity) TubID() string { return TubID(id.Certificate.Leaf.Raw) }

// NodeID is the 20-byte node id Tahoe derives from the tub id.
func (id *Identity) NodeID() [20]byte {
	n, _ := NodeIDFromTubID(id.TubID())
	return n
}

// LoadIdentity reads the node's identity files, creating any that are
// missing (as Tahoe does on first start).
func LoadIdentity(dir string) (*Identity, error) {
	priv := filepath.Join(dir, "private")
	if err := os.MkdirAll(priv, 0o700); err != nil {
		return nil, fmt.Errorf("create private directory: %w", err)
	}
	id := &Identity{}
	// ed25519 signing key.
	keyPath := filepath.Join(priv, "node.privkey")
	raw, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate node key: %w", err)
		}
		if err := os.WriteFile(keyPath, []byte("priv-v0-"+caps.Base32Encode(k.Seed())+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write node key: %w", err)
		}
		id.SigningKey = k
	case err != nil:
		return nil, fmt.Errorf("read node key: %w", err)
	default:
		s := strings.TrimSpace(string(raw))
		if !strings.HasPrefix(s, "priv-v0-") {
			return nil, fmt.Errorf("%s: not a priv-v0- key", keyPath)
		}
		seed, err := caps.Base32DecodeLen(strings.TrimPrefix(s, "priv-v0-"), ed25519.SeedSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyPath, err)
		}
		id.SigningKey = ed25519.NewKeyFromSeed(seed)
	}
	pub := id.SigningKey.Public().(ed25519.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "node.pubkey"), []byte("pub-v0-"+caps.Base32Encode(pub)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write node.pubkey: %w", err)
	}
	// TLS certificate.
	pemPath := filepath.Join(priv, "node.pem")
	pemBytes, err := os.ReadFile(pemPath)
	if errors.Is(err, fs.ErrNotExist) {
		c, k, gerr := GenerateCertificate()
		if gerr != nil {
			return nil, gerr
		}
		pemBytes = append(c, k...)
		if err := os.WriteFile(pemPath, pemBytes, 0o600); err != nil {
			return nil, fmt.Errorf("write node.pem: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read node.pem: %w", err)
	}
	if id.Certificate, err = tls.X509KeyPair(pemBytes, pemBytes); err != nil {
		return nil, fmt.Errorf("%s: %w", pemPath, err)
	}
	if id.Certificate.Leaf == nil {
		blk, _ := pem.Decode(pemBytes)
		if id.Certificate.Leaf, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("%s: %w", pemPath, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "my_nodeid"), []byte(id.TubID()+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write my_nodeid: %w", err)
	}
	// Permutation seed.
	seedPath := filepath.Join(dir, "permutation-seed")
	if b, err := os.ReadFile(seedPath); err == nil && strings.TrimSpace(string(b)) != "" {
		id.PermutationSeed = strings.TrimSpace(string(b))
	} else {
		id.PermutationSeed = caps.Base32Encode(pub)
		if err := os.WriteFile(seedPath, []byte(id.PermutationSeed+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write permutation-seed: %w", err)
		}
	}
	// Swissnum, kept in the storage FURL as Tahoe keeps it.
	furlPath := filepath.Join(priv, "storage.furl")
	if b, err := os.ReadFile(furlPath); err == nil {
		f := strings.TrimSpace(string(b))
		id.Swissnum = f[strings.LastIndex(f, "/")+1:]
	}
	if id.Swissnum == "" {
		sw := make([]byte, 20)
		if _, err := rand.Read(sw); err != nil {
			return nil, fmt.Errorf("generate swissnum: %w", err)
		}
		id.Swissnum = caps.Base32Encode(sw)
		if err := os.WriteFile(furlPath, []byte("pb://"+id.TubID()+"@/"+id.Swissnum+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write storage.furl: %w", err)
		}
	}
	return id, nil
}

// NodeConfig is the part of tahoe.cfg a storage node uses.
type NodeConfig struct {
	Nickname       string
	TubPort        string
	TubLocation    string
	StorageEnabled bool
	ReadOnly       bool
	ReservedSpace  int64
	StorageDir     string // absolute
	// ExpireEnabled turns on lease-based garbage collection (expire.mode
	// must be "age"; override_lease_duration and cutoff-date are not
	// supported).
	ExpireEnabled bool
}

// ReadNodeConfig reads dir/tahoe.cfg.
func ReadNodeConfig(dir string) (NodeConfig, error) {
	path := filepath.Join(dir, "tahoe.cfg")
	f, err := os.Open(path)
	if err != nil {
		return NodeConfig{}, fmt.Errorf("read node configuration: %w", err)
	}
	defer f.Close()
	parsed, err := nodedir.ParseConfig(f, path)
	if err != nil {
		return NodeConfig{}, err
	}
	// Values as configparser gives them; a missing key reads as "".
	cfg := map[string]string{}
	for _, sec := range parsed.Sections() {
		for _, k := range parsed.Keys(sec) {
			v, _ := parsed.Get(sec, k)
			cfg[sec+"."+k] = v
		}
	}
	nc := NodeConfig{
		Nickname:       cfg["node.nickname"],
		TubPort:        cfg["node.tub.port"],
		TubLocation:    cfg["node.tub.location"],
		StorageEnabled: true,
		StorageDir:     filepath.Join(dir, "storage"),
	}
	if v, ok := cfg["storage.enabled"]; ok {
		if nc.StorageEnabled, err = parseBool(v); err != nil {
			return nc, fmt.Errorf("[storage]enabled: %w", err)
		}
	}
	if v, ok := cfg["storage.readonly"]; ok && v != "" {
		if nc.ReadOnly, err = parseBool(v); err != nil {
			return nc, fmt.Errorf("[storage]readonly: %w", err)
		}
	}
	if v := cfg["storage.reserved_space"]; v != "" {
		if nc.ReservedSpace, err = ParseSize(v); err != nil {
			return nc, fmt.Errorf("[storage]reserved_space: %w", err)
		}
	}
	if v := cfg["storage.expire.enabled"]; v != "" {
		if nc.ExpireEnabled, err = parseBool(v); err != nil {
			return nc, fmt.Errorf("[storage]expire.enabled: %w", err)
		}
		if mode := cfg["storage.expire.mode"]; nc.ExpireEnabled && mode != "age" {
			return nc, fmt.Errorf("[storage]expire.mode = %q: only \"age\" is supported", mode)
		}
		if cfg["storage.expire.override_lease_duration"] != "" {
			return nc, fmt.Errorf("[storage]expire.override_lease_duration is not supported")
		}
	}
	if v := cfg["storage.storage_dir"]; v != "" {
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
	return nc, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
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

// ServerAnnouncement is a static-server entry of private/servers.yaml.
type ServerAnnouncement struct {
	Nickname        string   `yaml:"nickname"`
	PermutationSeed string   `yaml:"permutation-seed-base32"`
	FURL            string   `yaml:"anonymous-storage-FURL"`
	NURLs           []string `yaml:"anonymous-storage-NURLs"`
}

// ServersYAML renders a servers.yaml document announcing one server.
func ServersYAML(serverID string, ann ServerAnnouncement) ([]byte, error) {
	type entry struct {
		Ann ServerAnnouncement `yaml:"ann"`
	}
	doc := map[string]map[string]entry{"storage": {serverID: {Ann: ann}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render servers.yaml: %w", err)
	}
	return b, nil
}

// RunNode runs the storage node in dir until ctx is cancelled (the caller
// maps SIGINT/SIGTERM onto ctx with signal.NotifyContext). It serves GBS on
// tub.port, and writes private/storage.nurl, private/storage.furl and a
// ready-to-paste private/servers.yaml.entry once listening.
func RunNode(ctx context.Context, dir string, logger *slog.Logger) error {
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
	store, err := OpenDiskStore(cfg.StorageDir)
	if err != nil {
		return err
	}
	defer store.Close()
	leases, err := OpenLeaseDB(ctx, filepath.Join(cfg.StorageDir, "leasedb.sqlite"), store, time.Now())
	if err != nil {
		return err
	}
	defer leases.Close()
	local := NewLocal(store, LocalOptions{
		NodeID:             id.NodeID(),
		ReservedSpace:      cfg.ReservedSpace,
		ReadOnly:           cfg.ReadOnly,
		ApplicationVersion: ApplicationVersion,
		Leases:             leases,
		Logger:             logger,
	})
	defer local.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	host, port := advertisedHost(cfg.TubLocation, ln.Addr())
	nurl := NURL{SPKIHash: id.SPKIHash(), Host: host, Port: port, Swissnum: id.Swissnum}
	furl := FURL(id.TubID(), host, port, id.Swissnum)
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
		if err := writeFileAtomic(filepath.Join(dir, "private", f.name), f.content, 0o600); err != nil {
			ln.Close()
			return err
		}
	}
	logger.Info("storage server listening", "address", ln.Addr().String(), "nurl", nurl.String(), "server_id", id.ServerID())
	go func() {
		idle := time.NewTicker(time.Minute)
		defer idle.Stop()
		expire := time.NewTicker(time.Hour)
		defer expire.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-idle.C:
				local.AbortIdleUploads(30 * time.Minute)
			case <-expire.C:
				if !cfg.ExpireEnabled {
					continue
				}
				if n, err := local.ExpireShares(ctx, time.Now()); err != nil {
					logger.Error("lease expiry", "err", err)
				} else if n > 0 {
					logger.Info("expired shares", "count", n)
				}
			}
		}
	}()
	h := NewHTTPServer(local, id.Swissnum, HTTPOptions{Logger: logger})
	if err := ServeTLS(ctx, ln, h, id.Certificate); err != nil {
		return err
	}
	logger.Info("storage server stopped")
	return nil
}

// writeFileAtomic writes a file so that readers see all of it or none.
func writeFileAtomic(path string, content []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, perm); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ApplicationVersion is what the version message reports.
const ApplicationVersion = "lafs/0.1 (tahoe-lafs-compatible storage)"
