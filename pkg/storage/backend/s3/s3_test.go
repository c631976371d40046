package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
)

// newBackend creates a bucket on srv and opens a backend on it.
func newBackend(t testing.TB, srv *s3test.Server, mod func(*Config)) *Backend {
	t.Helper()
	cfg := Config{
		URL:             srv.URL,
		Region:          srv.Region,
		Bucket:          s3test.BucketName(),
		AccessKeyID:     srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey,
		SpoolDir:        t.TempDir(),
		Attempts:        2,
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx := context.Background()
	if err := CreateBucket(ctx, cfg); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newBackend(t, srv, nil) })
}

func TestConformanceWithPrefixAndSmallReads(t *testing.T) {
	srv := s3test.Start(t)
	var n atomic.Int32
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newBackend(t, srv, func(c *Config) {
			c.Prefix = fmt.Sprintf("nodes/n%d", n.Add(1))
			c.ReadAhead = 3
		})
	})
}

func TestConfigValidate(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:1", Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s"}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" for none
	}{
		{"good", func(*Config) {}, ""},
		{"prefix", func(c *Config) { c.Prefix = "a/b-c.d" }, ""},
		{"no URL", func(c *Config) { c.URL = "" }, "no endpoint"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://x" }, "not an http(s) URL"},
		{"no host", func(c *Config) { c.URL = "http://" }, "not an http(s) URL"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "no bucket"},
		{"prefix slash", func(c *Config) { c.Prefix = "a/" }, "prefix"},
		{"prefix shares", func(c *Config) { c.Prefix = "shares" }, "prefix"},
		{"prefix dotdot", func(c *Config) { c.Prefix = "a/../b" }, "prefix"},
		{"no secret", func(c *Config) { c.SecretAccessKey = "" }, "secret"},
		{"tiny parts", func(c *Config) { c.PartSize = 1 << 20 }, "5 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error about %q", err, tc.want)
			}
			if _, err := Open(c); err == nil {
				t.Error("Open accepted the bad config")
			}
		})
	}
}

// TestKeyLayout: the object keys are the disk layout's paths under the
// prefix (versitygw's POSIX backend stores each object as the file of its
// key, so the layout can be read off its directory).
func TestKeyLayout(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.Prefix = "grid/node1" })
	defer b.Close()
	si := backendtest.SI(0x5a)
	backendtest.Put(t, b, si, 7, []byte("container bytes"))
	if err := b.PutAux(context.Background(), "corruption-advisories/x", []byte("adv")); err != nil {
		t.Fatal(err)
	}
	s := si.String()
	path := filepath.Join(srv.Dir, b.Config().Bucket, "grid", "node1", "shares", s[:2], s, "7")
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "container bytes" {
		t.Fatalf("object file %s = %q, %v", path, got, err)
	}
	if got := b.ShareKey(si, 7); got != "grid/node1/shares/"+s[:2]+"/"+s+"/7" {
		t.Errorf("ShareKey = %q", got)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, b.Config().Bucket, "grid", "node1", "corruption-advisories", "x")); err != nil {
		t.Errorf("aux object: %v", err)
	}
}

func TestEditConflict(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(1)
	backendtest.Put(t, b, si, 0, []byte("version 0"))

	// Two editors the lock did not serialise (say, two processes).
	e1, err := b.Edit(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e1.Close()
	e2, err := b.Edit(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e1.WriteAt([]byte("1"), 8)
	e2.WriteAt([]byte("2"), 8)
	if err := e1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e2.Commit(ctx); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("second editor's Commit: %v, want ErrConflict", err)
	}
	if got := backendtest.Get(t, b, si, 0); string(got) != "version 1" {
		t.Errorf("content = %q, want the first editor's", got)
	}

	// An edit of a container removed meanwhile conflicts too.
	e3, err := b.Edit(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Close()
	if err := b.Remove(ctx, si, 0); err != nil {
		t.Fatal(err)
	}
	e3.WriteAt([]byte("3"), 8)
	if err := e3.Commit(ctx); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("Commit of an edit of a removed container: %v, want ErrConflict", err)
	}
	if got, _ := b.List(ctx, si); len(got) != 0 {
		t.Errorf("List = %v: the conflicting edit recreated the container", got)
	}
}

// TestReaderSeesOneVersion: a reader opened before an edit never mixes the
// two versions.
func TestReaderSeesOneVersion(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.ReadAhead = 4 })
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(2)
	backendtest.Put(t, b, si, 0, []byte("aaaaaaaaaaaa"))
	r, err := b.Open(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, 4)
	if _, err := r.ReadAt(p, 0); err != nil || string(p) != "aaaa" {
		t.Fatalf("first window = %q, %v", p, err)
	}
	e, err := b.Edit(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.WriteAt([]byte("bbbbbbbbbbbb"), 0)
	if err := e.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := r.ReadAt(p, 8); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("ReadAt after a concurrent edit: %q, %v; want ErrConflict", p, err)
	}
}

func TestMultipart(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.PartSize = minPartSize })
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(3)
	data := make([]byte, 2*minPartSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	before := b.Stats().Snapshot()
	backendtest.Put(t, b, si, 1, data)
	after := b.Stats().Snapshot()
	if d := after["UploadPart"] - before["UploadPart"]; d != 3 {
		t.Errorf("UploadPart requests = %d, want 3", d)
	}
	if after["PutObject"] != before["PutObject"] {
		t.Errorf("a multipart commit sent a PutObject")
	}
	if got := backendtest.Get(t, b, si, 1); !bytes.Equal(got, data) {
		t.Fatal("multipart container read back differs")
	}
	// If-None-Match on the completion: a second creator loses.
	w, err := b.Create(ctx, si, 1, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt(bytes.Repeat([]byte{1}, len(data)), 0)
	if err := w.Commit(ctx); !errors.Is(err, backend.ErrExist) {
		t.Fatalf("second multipart Commit: %v, want ErrExist", err)
	}
	w.Close()
	// If-Match on an edit's completion.
	e1, _ := b.Edit(ctx, si, 1)
	e2, _ := b.Edit(ctx, si, 1)
	defer e1.Close()
	defer e2.Close()
	e1.WriteAt([]byte("edit one"), 0)
	e2.WriteAt([]byte("edit two"), 0)
	if err := e1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e2.Commit(ctx); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("stale multipart edit: %v, want ErrConflict", err)
	}
	got := backendtest.Get(t, b, si, 1)
	if !bytes.Equal(got[:8], []byte("edit one")) || !bytes.Equal(got[8:], data[8:]) {
		t.Error("content after the edits is not the first editor's")
	}
	// No upload is left behind.
	out, err := b.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after failed commits", len(out.Uploads))
	}
}

// TestAbandonedUpload: a writer that never commits (its process died)
// leaves nothing a reader or a listing sees; a multipart upload left by a
// crash mid-commit is aborted by AbortStaleUploads.
func TestAbandonedUpload(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(4)
	w, err := b.Create(ctx, si, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt(bytes.Repeat([]byte("x"), 1<<16), 0)
	// The spool is unlinked: nothing named is left in the spool directory.
	if ents, _ := os.ReadDir(b.cfg.SpoolDir); len(ents) != 0 {
		t.Errorf("spool directory holds %d names", len(ents))
	}
	if got, _ := b.List(ctx, si); len(got) != 0 {
		t.Errorf("List before Commit = %v", got)
	}
	w.Close()

	key := b.ShareKey(si, 1)
	if _, err := b.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.AbortStaleUploads(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("AbortStaleUploads(1h) = %d, %v; want 0 (the upload is fresh)", n, err)
	}
	if n, err := b.AbortStaleUploads(ctx, -time.Minute); err != nil || n != 1 {
		t.Errorf("AbortStaleUploads = %d, %v; want 1", n, err)
	}
	if got, _ := b.List(ctx, si); len(got) != 0 {
		t.Errorf("List = %v", got)
	}
}

// TestReadAheadRequests: a sequential read in small chunks costs one GET
// per ReadAhead window, not one per chunk.
func TestReadAheadRequests(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.ReadAhead = 1 << 20 })
	defer b.Close()
	si := backendtest.SI(5)
	data := bytes.Repeat([]byte("0123456789abcdef"), (4<<20)/16)
	backendtest.Put(t, b, si, 0, data)
	before := b.Stats().Snapshot()["GetObject"]
	r, err := b.Open(context.Background(), si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []byte
	chunk := make([]byte, 64<<10)
	for off := int64(0); off < r.Size(); off += int64(len(chunk)) {
		n, err := r.ReadAt(chunk, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		got = append(got, chunk[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the container", len(got))
	}
	// Open's 64 KiB, then one GET per MiB window from there.
	if n := b.Stats().Snapshot()["GetObject"] - before; n != 5 {
		t.Errorf("GETs for a 4 MiB read = %d, want 5", n)
	}
}

// TestOutage: with the service stopped every operation fails with a clear
// error wrapping ErrUnavailable; when it returns the same backend works.
func TestOutage(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(6)
	backendtest.Put(t, b, si, 0, []byte("before"))
	w, err := b.Create(ctx, si, 1, -1) // an upload in progress across the outage
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteAt([]byte("during"), 0)

	srv.Stop(t)
	checks := map[string]func() error{
		"Open":   func() error { _, err := b.Open(ctx, si, 0); return err },
		"List":   func() error { _, err := b.List(ctx, si); return err },
		"Walk":   func() error { return b.Walk(ctx, func(storage.StorageIndex) error { return nil }) },
		"Edit":   func() error { _, err := b.Edit(ctx, si, 0); return err },
		"Remove": func() error { return b.Remove(ctx, si, 0) },
		"PutAux": func() error { return b.PutAux(ctx, "x", []byte("y")) },
		"Commit": func() error { return w.Commit(ctx) },
		"Check":  func() error { return b.Check(ctx) },
	}
	for name, fn := range checks {
		err := fn()
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with S3 down: %v, want ErrUnavailable (and storage.ErrUnavailable)", name, err)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", name, msg)
		if !strings.Contains(msg, "S3 service unavailable at "+srv.URL) || !strings.Contains(msg, "s3://"+b.cfg.Bucket) {
			t.Errorf("%s error is not clear: %s", name, msg)
		}
		if strings.Contains(msg, srv.SecretAccessKey) {
			t.Errorf("%s error shows the secret key", name)
		}
	}

	srv.Restart(t)
	if got := backendtest.Get(t, b, si, 0); string(got) != "before" {
		t.Errorf("after the outage: %q", got)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("the interrupted upload's Commit, retried: %v", err)
	}
	if got := backendtest.Get(t, b, si, 1); string(got) != "during" {
		t.Errorf("retried upload = %q", got)
	}
}

func TestBucketChecks(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	ctx := context.Background()
	if err := b.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := CreateBucket(ctx, b.Config()); err != nil {
		t.Errorf("CreateBucket of an existing bucket: %v", err)
	}
	cfg := b.Config()
	cfg.Bucket = s3test.BucketName()
	missing, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "create-container") {
		t.Errorf("Check of a missing bucket: %v", err)
	}
	cfg.Bucket = b.Config().Bucket
	cfg.SecretAccessKey = "wrong"
	bad, _ := Open(cfg)
	if err := bad.Check(ctx); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("Check with a wrong secret: %v, want a refusal that is not an outage", err)
	}
}

// TestReaderOutlivesItsRequest: the share store caches open readers across
// requests, so a reader keeps working after the context it was opened with
// is cancelled.
func TestReaderOutlivesItsRequest(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.ReadAhead = 4 })
	defer b.Close()
	si := backendtest.SI(7)
	backendtest.Put(t, b, si, 0, []byte("0123456789"))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := b.Open(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cancel()
	p := make([]byte, 4)
	if n, err := r.ReadAt(p, 6); n != 4 || err != nil || string(p) != "6789" {
		t.Fatalf("ReadAt after the opening request ended = %d, %v, %q", n, err, p)
	}
}

// TestMaxContainerSize: a client cannot make the node spool (and upload)
// an unbounded object.
func TestMaxContainerSize(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.MaxContainerSize = 1000 })
	defer b.Close()
	ctx := context.Background()
	if _, err := b.Create(ctx, backendtest.SI(8), 0, 1001); !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("Create over the limit: %v, want ErrTooLarge", err)
	}
	w, err := b.Create(ctx, backendtest.SI(8), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("x"), 1000); !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("WriteAt past the limit: %v, want ErrTooLarge", err)
	}
	if _, err := w.WriteAt([]byte("x"), 1<<62); !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("WriteAt far past the limit: %v, want ErrTooLarge", err)
	}
	if _, err := w.WriteAt([]byte("x"), 999); err != nil {
		t.Errorf("WriteAt up to the limit: %v", err)
	}
}

// TestRequestCountsMatch: the server's access log (what the figures count)
// agrees with the backend's own counters.
func TestRequestCountsMatch(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	si := backendtest.SI(9)
	for n := 0; n < 3; n++ {
		backendtest.Put(t, b, si, n, []byte("abc"))
	}
	backendtest.Get(t, b, si, 1)
	var got map[string]int
	for i := 0; i < 50; i++ {
		var err error
		if got, err = srv.RequestCounts(b.Config().Bucket); err != nil {
			t.Fatal(err)
		}
		if got["PutObject"] == 3 && got["GetObject"] == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("access log counts %v, want 3 PutObject and 1 GetObject (backend: %v)", got, b.Stats().Snapshot())
}

// TestEagerParts: a created container hinted larger than a part sends
// each part as soon as it is whole, so Commit sends only the rest; a part
// rewritten after it went out is sent again; an abandoned upload leaves no
// multipart upload behind.
func TestEagerParts(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, func(c *Config) { c.PartSize = minPartSize })
	defer b.Close()
	ctx := context.Background()
	si := backendtest.SI(10)
	size := int64(2*minPartSize + 1000)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	parts := func() int64 { return b.Stats().Snapshot()["UploadPart"] }
	w, err := b.Create(ctx, si, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Sequential chunks, as a client uploads.
	for off := int64(0); off < size; off += 64 << 10 {
		end := min(size, off+64<<10)
		if _, err := w.WriteAt(data[off:end], off); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for parts() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := parts(); n != 2 {
		t.Fatalf("before Commit %d parts were sent, want the 2 whole ones", n)
	}
	// Rewrite a byte of the first part: it must go again.
	data[100] ^= 0xff
	if _, err := w.WriteAt(data[100:101], 100); err != nil {
		t.Fatal(err)
	}
	before := parts()
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// At most: the rewritten first part (unless its second upload started
	// before Commit) and the last part.
	if sent := parts() - before; sent > 2 {
		t.Errorf("Commit sent %d parts, want at most 2", sent)
	}
	if got := backendtest.Get(t, b, si, 0); !bytes.Equal(got, data) {
		t.Fatal("the committed container is not what was written")
	}

	// Abandoned after its parts went out: nothing is left in the bucket.
	w2, err := b.Create(ctx, si, 1, size)
	if err != nil {
		t.Fatal(err)
	}
	w2.WriteAt(data, 0)
	time.Sleep(200 * time.Millisecond)
	w2.Close()
	out, err := b.client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left by an abandoned writer", len(out.Uploads))
	}
	if got, _ := b.List(ctx, si); len(got) != 1 {
		t.Errorf("List = %v, want only the committed share", got)
	}
	// Hinted large, ended small: one PUT.
	w3, err := b.Create(ctx, si, 2, size)
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	w3.WriteAt([]byte("small after all"), 0)
	if err := w3.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := backendtest.Get(t, b, si, 2); string(got) != "small after all" {
		t.Errorf("small container = %q", got)
	}
}

func TestTotalSize(t *testing.T) {
	for _, tc := range []struct {
		cr     string
		length int64
		want   int64
		ok     bool
	}{
		{"bytes 0-99/1234", 100, 1234, true},
		{"bytes 0-0/1", 1, 1, true},
		{"", 42, 42, true}, // the range was ignored: the whole object came
		{"bytes 0-99/*", 100, 0, false},
		{"bytes 0-99", 100, 0, false},
		{"bytes 0-99/-5", 100, 0, false},
		{"bytes 0-99/12x", 100, 0, false},
	} {
		out := &awss3.GetObjectOutput{ContentLength: aws.Int64(tc.length)}
		if tc.cr != "" {
			out.ContentRange = aws.String(tc.cr)
		}
		got, err := totalSize(out)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("totalSize(%q) = %d, %v; want %d, ok=%v", tc.cr, got, err, tc.want, tc.ok)
		}
	}
}

// BenchmarkPutGet8MiB: one 8 MiB container created, committed and read
// back whole through versitygw on loopback.
func BenchmarkPutGet8MiB(b *testing.B) {
	srv := s3test.Start(b)
	be := newBackend(b, srv, func(c *Config) { c.PartSize = minPartSize })
	defer be.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), (8<<20)/16)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		si := backendtest.SI(byte(i))
		si[1] = byte(i >> 8)
		i++
		backendtest.Put(b, be, si, 0, data)
		if got := backendtest.Get(b, be, si, 0); len(got) != len(data) {
			b.Fatal("short read")
		}
	}
}

// TestEmptyContainer: S3 refuses a ranged GET of an empty object (416);
// Open still opens it.
func TestEmptyContainer(t *testing.T) {
	srv := s3test.Start(t)
	b := newBackend(t, srv, nil)
	defer b.Close()
	si := backendtest.SI(11)
	backendtest.Put(t, b, si, 0, nil)
	r, err := b.Open(context.Background(), si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 0 {
		t.Errorf("Size = %d", r.Size())
	}
	if n, err := r.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Errorf("ReadAt = %d, %v", n, err)
	}
}
