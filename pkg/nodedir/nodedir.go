package nodedir

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
)

// Tahoe's client defaults for encoding (allmydata.client).
const (
	DefaultNeeded         = 3
	DefaultHappy          = 7
	DefaultTotal          = 10
	DefaultMaxSegmentSize = 1024 * 1024 // Tahoe's DEFAULT_IMMUTABLE_MAX_SEGMENT_SIZE
)

// Encoding holds the [client] encoding parameters.
type Encoding struct {
	Needed         int   `json:"needed"`           // shares.needed, k
	Happy          int   `json:"happy"`            // shares.happy
	Total          int   `json:"total"`            // shares.total, N
	MaxSegmentSize int64 `json:"max_segment_size"` // shares._max_immutable_segment_size_for_testing
}

// Validate checks 1 <= k <= N <= 256 and 1 <= happy <= N.
func (e Encoding) Validate() error {
	switch {
	case e.Needed < 1 || e.Needed > caps.MaxShares:
		return fmt.Errorf("shares.needed = %d: must be between 1 and %d", e.Needed, caps.MaxShares)
	case e.Total < e.Needed || e.Total > caps.MaxShares:
		return fmt.Errorf("shares.total = %d: must be between shares.needed (%d) and %d", e.Total, e.Needed, caps.MaxShares)
	case e.Happy < 1 || e.Happy > e.Total:
		return fmt.Errorf("shares.happy = %d: must be between 1 and shares.total (%d)", e.Happy, e.Total)
	case e.MaxSegmentSize < 1:
		return fmt.Errorf("maximum segment size %d: must be at least 1", e.MaxSegmentSize)
	}
	return nil
}

// Node is an opened node directory.
type Node struct {
	Dir    string
	Config *Config
}

// Open reads dir/tahoe.cfg (a missing file is an empty configuration, as in
// Tahoe). The directory itself must exist.
func Open(dir string) (*Node, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("node directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("node directory %s is not a directory", dir)
	}
	n := &Node{Dir: dir}
	path := filepath.Join(dir, "tahoe.cfg")
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		n.Config = &Config{sections: map[string]map[string]entry{}}
	case err != nil:
		return nil, fmt.Errorf("reading config: %w", err)
	default:
		defer f.Close()
		if n.Config, err = ParseConfig(f, path); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Path joins elements onto the node directory.
func (n *Node) Path(elem ...string) string {
	return filepath.Join(append([]string{n.Dir}, elem...)...)
}

// Encoding returns the [client] encoding parameters with Tahoe's defaults.
func (n *Node) Encoding() (Encoding, error) {
	var e Encoding
	var err error
	if e.Needed, err = n.Config.Int("client", "shares.needed", DefaultNeeded); err != nil {
		return e, err
	}
	if e.Total, err = n.Config.Int("client", "shares.total", DefaultTotal); err != nil {
		return e, err
	}
	if e.Happy, err = n.Config.Int("client", "shares.happy", DefaultHappy); err != nil {
		return e, err
	}
	seg, err := n.Config.Int("client", "shares._max_immutable_segment_size_for_testing", DefaultMaxSegmentSize)
	if err != nil {
		return e, err
	}
	e.MaxSegmentSize = int64(seg)
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("%s [client]: %w", n.Path("tahoe.cfg"), err)
	}
	return e, nil
}

// Nickname returns [node] nickname.
func (n *Node) Nickname() string { return n.Config.String("node", "nickname", "") }

// NewSecret returns a fresh secret in Tahoe's private-file form: the base32
// of 32 random bytes and a newline.
func NewSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating secret: %w", err)
	}
	return []byte(caps.Base32Encode(b) + "\n"), nil
}

// privateSecret reads private/NAME, creating it with a fresh secret when it
// is missing (Tahoe's get_or_create_private_config), and decodes its
// base32.
func (n *Node) privateSecret(name string) ([]byte, error) {
	path := n.Path("private", name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Several processes may start on a fresh node directory at once:
		// the first secret written is everyone's (never replaced).
		fresh, err := NewSecret()
		if err != nil {
			return nil, err
		}
		switch err := createFileExclusive(path, fresh, 0o600); {
		case err == nil:
			b = fresh
		case errors.Is(err, fs.ErrExist):
			if b, err = os.ReadFile(path); err != nil {
				return nil, fmt.Errorf("reading %s: %w", path, err)
			}
		default:
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	s := string(bytes.TrimSpace(b))
	secret, err := caps.Base32Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secret, nil
}

// ConvergenceSecret returns the convergence secret of private/convergence,
// creating the file as Tahoe does when it is missing. An empty file means
// an empty secret.
func (n *Node) ConvergenceSecret() ([]byte, error) { return n.privateSecret("convergence") }

// LeaseSecret returns the client's base secret for leases (private/secret),
// creating it when missing.
func (n *Node) LeaseSecret() ([]byte, error) { return n.privateSecret("secret") }

// NodeURL returns the web API URL of node.url, "" when the file is absent
// (the node is then not a gateway client).
func (n *Node) NodeURL() (string, error) {
	b, err := os.ReadFile(n.Path("node.url"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading node.url: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, fsyncs it and renames it into place, creating parent
// directories (0700) as needed. A failure leaves any existing file intact.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(path, data, perm, false)
}

// createFileExclusive is WriteFileAtomic that never replaces: it fails
// with an error matching fs.ErrExist when path exists.
func createFileExclusive(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(path, data, perm, true)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode, exclusive bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	publish := os.Rename
	if exclusive {
		publish = os.Link // fails when path exists
	}
	if err := publish(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
