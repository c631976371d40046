package node_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lafs/lafs/pkg/client/gbs"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/gbswire"
)

const runNodeEnv = "LAFS_STORAGE_TEST_RUN_NODE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(runNodeEnv); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		go func() {
			// Announce readiness once the NURL file appears.
			for ctx.Err() == nil {
				if b, err := os.ReadFile(filepath.Join(dir, "private", "storage.nurl")); err == nil {
					os.Stdout.Write(b)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		if err := node.RunNode(ctx, dir, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestNodeOptionsValidate(t *testing.T) {
	base := node.NewNodeOptions()
	with := func(f func(*node.NodeOptions)) node.NodeOptions {
		o := base
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name    string
		opts    node.NodeOptions
		wantErr string
	}{
		{"port and location", with(func(o *node.NodeOptions) {
			o.Port, o.Location = "tcp:3457:interface=127.0.0.1", "tcp:127.0.0.1:3457"
		}), ""},
		{"hostname", with(func(o *node.NodeOptions) { o.Hostname = "example.org" }), ""},
		{"listen none", with(func(o *node.NodeOptions) { o.Listen = "none" }), ""},
		{"hostname with port", with(func(o *node.NodeOptions) {
			o.Port, o.Location, o.Hostname = "tcp:3457", "tcp:127.0.0.1:3457", "example.org"
		}), "--hostname cannot be used with --location/--port"},
		{"port without location", with(func(o *node.NodeOptions) { o.Port = "tcp:3457" }), "--port must be used with --location"},
		{"location without port", with(func(o *node.NodeOptions) { o.Location = "tcp:h:1" }), "--location must be used with --port"},
		{"tcp without hostname", base, "--listen=tcp requires --hostname="},
		{"hostname with listen none", with(func(o *node.NodeOptions) { o.Listen, o.Hostname = "none", "h" }), "--hostname cannot be used when --listen=none"},
		{"tor", with(func(o *node.NodeOptions) { o.Listen, o.Hostname = "tor", "h" }), "--listen= must be one/some of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, node.ErrUsage) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1000", 1000, true}, {"1G", 1e9, true}, {"1GB", 1e9, true}, {"10k", 10000, true},
		{"2GiB", 2 << 30, true}, {"5MiB", 5 << 20, true}, {"100 M", 1e8, true}, {"100000kb", 1e8, true}, {"1024 Ki", 1 << 20, true}, {"1048576 B", 1 << 20, true}, {"0", 0, true}, {"x", 0, false}, {"-1", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := node.ParseSize(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}

func createTestNode(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	opts := node.NewNodeOptions()
	opts.Nickname = "test-node"
	opts.Hostname = "127.0.0.1"
	opts.WebPort = "none"
	if err := node.CreateNode(dir, opts); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCreateNodeFiles(t *testing.T) {
	dir := createTestNode(t)
	cfg, err := os.ReadFile(filepath.Join(dir, "tahoe.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nickname = test-node", "web.port = \n", "tub.port = tcp:", "tub.location = tcp:127.0.0.1:", "[storage]\nenabled = true", "reserved_space = 1G"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("tahoe.cfg lacks %q", want)
		}
	}
	for _, tc := range []struct{ file, prefix string }{
		{"private/node.privkey", "priv-v0-"},
		{"node.pubkey", "pub-v0-"},
		{"private/node.pem", "-----BEGIN CERTIFICATE-----"},
		{"private/storage.furl", "pb://"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil || !strings.HasPrefix(string(b), tc.prefix) {
			t.Errorf("%s: %q %v", tc.file, b, err)
		}
	}
	id, err := node.LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "node.pubkey"))
	if "v0-"+strings.TrimPrefix(strings.TrimSpace(string(pub)), "pub-v0-") != id.ServerID() {
		t.Errorf("server id %s does not match node.pubkey %s", id.ServerID(), pub)
	}
	seed, _ := os.ReadFile(filepath.Join(dir, "permutation-seed"))
	if strings.TrimSpace(string(seed)) != strings.TrimPrefix(id.ServerID(), "v0-") {
		t.Errorf("permutation seed %s", seed)
	}
	// Loading again keeps the identity.
	id2, err := node.LoadIdentity(dir)
	if err != nil || id2.ServerID() != id.ServerID() || id2.SPKIHash() != id.SPKIHash() || id2.Swissnum != id.Swissnum {
		t.Fatalf("identity changed on reload")
	}
	if err := node.CreateNode(dir, node.NewNodeOptions()); err == nil {
		t.Fatal("CreateNode over a non-empty directory succeeded")
	}
}

// TestRunNode runs a node in-process, talks to it with the GBS client using
// the NURL it wrote, checks the servers.yaml entry, then stops it.
func TestRunNode(t *testing.T) {
	dir := createTestNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs safeBuffer
	go func() {
		done <- node.RunNode(ctx, dir, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}()
	nurlPath := filepath.Join(dir, "private", "storage.nurl")
	var nurl string
	for i := 0; i < 500; i++ {
		if b, err := os.ReadFile(nurlPath); err == nil {
			nurl = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if nurl == "" {
		cancel()
		t.Fatalf("node did not start: %v", <-done)
	}
	c, err := gbs.New(nurl, gbs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil || string(v.ApplicationVersion) != node.ApplicationVersion {
		t.Fatalf("version %+v %v", v, err)
	}
	var si storage.StorageIndex
	copy(si[:], "run-node")
	lease := storage.LeaseSecrets{Renew: [32]byte{1}, Cancel: [32]byte{2}}
	if _, err := c.AllocateBuckets(ctx, si, lease, []byte("u"), []int{0}, 5); err != nil {
		t.Fatal(err)
	}
	if wr, err := c.WriteShareChunk(ctx, si, 0, []byte("u"), 0, []byte("hello")); err != nil || !wr.Complete {
		t.Fatalf("write: %+v %v", wr, err)
	}

	id, _ := node.LoadIdentity(dir)
	raw, err := os.ReadFile(filepath.Join(dir, "private", "servers.yaml.entry"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Storage map[string]struct {
			Ann map[string]any `yaml:"ann"`
		} `yaml:"storage"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ann := doc.Storage[id.ServerID()].Ann
	if ann["nickname"] != "test-node" || ann["permutation-seed-base32"] != id.PermutationSeed {
		t.Errorf("announcement %v", ann)
	}
	if nurls, _ := ann["anonymous-storage-NURLs"].([]any); len(nurls) != 1 || nurls[0] != nurl {
		t.Errorf("NURLs %v, want [%s]", ann["anonymous-storage-NURLs"], nurl)
	}
	n, _ := gbswire.ParseNURL(nurl)
	if furl, _ := ann["anonymous-storage-FURL"].(string); furl != "pb://"+id.TubID()+"@tcp:"+n.Address()+"/"+id.Swissnum {
		t.Errorf("FURL %q", furl)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// No secret in the log, at any level: the swissnum (alone, in the
	// NURL or FURL).
	out := logs.String()
	if !strings.Contains(out, "storage server listening") {
		t.Fatalf("log lacks the listening line:\n%s", out)
	}
	for _, secret := range []string{id.Swissnum, nurl} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains a secret (%.12q...):\n%s", secret, out)
		}
	}
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunNodeSignals runs a node as a separate process and stops it with
// SIGTERM, then SIGINT; the lease database, deleted in between, is rebuilt.
func TestRunNodeSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := createTestNode(t)
	run := func(sig os.Signal) {
		os.Remove(filepath.Join(dir, "private", "storage.nurl"))
		// A watchdog kills a child that never starts or never stops.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), runNodeEnv+"="+dir)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("node did not start: %v", err)
		}
		c, err := gbs.New(strings.TrimSpace(line), gbs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Close()
		cmd.Process.Signal(sig)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("node exited with %v after %v", err, sig)
		}
	}
	run(syscall.SIGTERM)
	db := filepath.Join(dir, "storage", "leasedb.sqlite")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("no lease database: %v", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	run(os.Interrupt)
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("lease database not rebuilt: %v", err)
	}
}
