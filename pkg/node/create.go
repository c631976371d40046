package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lafs/lafs/pkg/storage/backend/s3"
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
	// S3, when set, makes a node that keeps its shares in S3 ([storage]
	// backend = cloud.s3 and the s3.* keys); its SecretAccessKey is written
	// to private/s3secret.
	S3 *s3.Config
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
	if c := opts.S3; c != nil {
		fmt.Fprintf(&b, "backend = %s\ns3.url = %s\n", BackendS3, c.URL)
		if c.Region != "" {
			fmt.Fprintf(&b, "s3.region = %s\n", c.Region)
		}
		fmt.Fprintf(&b, "s3.bucket = %s\n", c.Bucket)
		if c.Prefix != "" {
			fmt.Fprintf(&b, "s3.prefix = %s\n", c.Prefix)
		}
		fmt.Fprintf(&b, "s3.access_key_id = %s\n", c.AccessKeyID)
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(S3SecretFile)), []byte(c.SecretAccessKey+"\n"), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", S3SecretFile, err)
		}
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
