// Package s3test runs a real S3 server for tests: versitygw (Versity's S3
// gateway, Apache-2.0) with its POSIX backend over a temporary directory,
// listening on a free port of 127.0.0.1. It owns the server process and
// nothing else.
//
// The binary is looked up on PATH (.ci/run installs it with `go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0`). When it is missing a
// test is skipped with a message saying how to install it, except under CI
// (CI set and not "false"), where the test fails instead.
package s3test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the versitygw executable name looked up on PATH.
const Binary = "versitygw"

// InstallHint says how to get the binary.
const InstallHint = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Server is a running versitygw. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string
	// AccessKeyID and SecretAccessKey are the root account's credentials.
	AccessKeyID, SecretAccessKey string
	// Region is the region the server signs for.
	Region string
	// Dir is the POSIX directory holding the buckets (one subdirectory per
	// bucket, an object per file).
	Dir string

	bin       string
	addr      string
	logf      string
	accessLog string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Find returns the path of the versitygw binary, skipping t (or failing it
// under CI) when there is none.
func Find(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err == nil {
		return bin
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		t.Fatalf("%s is not on PATH and CI=%s: the S3 tests must run in CI (install it with: %s)", Binary, ci, InstallHint)
	}
	t.Skipf("%s is not on PATH: skipping the tests against a real S3 server (install it with: %s)", Binary, InstallHint)
	return ""
}

// Start starts a server on a free port with an empty directory; it is
// stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Find(t)
	s, err := StartIn(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartIn starts the versitygw binary bin on a free port, keeping its
// buckets and logs under dir (for callers without a testing.TB, such as
// testscript commands). Close stops it.
func StartIn(bin, dir string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{
		AccessKeyID:     "lafs-test-" + randomHex(4),
		SecretAccessKey: randomHex(20),
		Region:          "us-east-1",
		Dir:             filepath.Join(dir, "gw"),
		bin:             bin,
		addr:            addr,
	}
	s.logf = s.Dir + ".log"
	s.accessLog = s.Dir + ".access.log"
	s.URL = "http://" + s.addr
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the server for good.
func (s *Server) Close() { s.stop() }

// Available reports whether the binary is on PATH, and under CI (CI set
// and not "false") fails with an error when it is not.
func Available() (bool, error) {
	if _, err := exec.LookPath(Binary); err == nil {
		return true, nil
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		return false, fmt.Errorf("%s is not on PATH and CI=%s: the S3 tests must run in CI (install it with: %s)", Binary, ci, InstallHint)
	}
	return false, nil
}

// StopServer stops a server started by StartIn (its data stays);
// RestartServer brings it back on the same address.
func (s *Server) StopServer() { s.stop() }

// RestartServer restarts a stopped server.
func (s *Server) RestartServer() error { return s.start() }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("versitygw already running")
	}
	logFile, err := os.OpenFile(s.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "--quiet", "--access-log", s.accessLog, "posix", s.Dir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY="+s.AccessKeyID,
		"ROOT_SECRET_KEY="+s.SecretAccessKey,
		"VGW_REGION="+s.Region,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logFile.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("versitygw exited at start: %s", s.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not listen on %s within 15s: %s", s.addr, s.log())
		}
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(s.logf)
	return string(bytes.TrimSpace(b))
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Stop stops the server (its data stays); Restart brings it back on the
// same address.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop()
}

// Restart starts a stopped server again on the same address and directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// RequestCounts counts the requests the server has logged for bucket (""
// for all), by operation (PutObject, GetObject, ...), across restarts. The
// server writes its access log as it answers, so a request answered before
// the call is counted.
func (s *Server) RequestCounts(bucket string) (map[string]int, error) {
	data, err := os.ReadFile(s.accessLog)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		// owner bucket [time zone] ip requester request-id operation ...
		if len(f) < 8 || !strings.HasPrefix(f[7], "s3_") {
			continue
		}
		if bucket == "" || f[1] == bucket {
			out[strings.TrimPrefix(f[7], "s3_")]++
		}
	}
	return out, nil
}

// BucketName returns a fresh bucket name for a test to create.
func BucketName() string { return "lafs-" + randomHex(6) }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }
