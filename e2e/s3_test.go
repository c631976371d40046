package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lafs/lafs/internal/devgrid"
	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
)

// s3Grid is a dev grid whose storage nodes keep their shares in one bucket
// of a versitygw, one prefix per node, and (optionally) a twin on disk
// made from a copy of the same node directories: same identities, same
// client secrets, so the same upload produces the same containers.
type s3Grid struct {
	gw      *s3test.Server
	bucket  string
	dir     string // the S3 grid
	diskDir string // the disk twin ("" when none)
}

func gridOptions(t testing.TB, servers, k, happy, n int) devgrid.Options {
	return devgrid.Options{
		Servers: servers, Needed: k, Happy: happy, Total: n,
		Executable: command(t, "tahoe"), ServeArgs: []string{"run", "--allow-stdin-close"},
		StartTimeout: 60 * time.Second,
	}
}

func newS3Grid(t testing.TB, gw *s3test.Server, servers, k, happy, n int, twin bool) *s3Grid {
	t.Helper()
	g := &s3Grid{gw: gw, bucket: s3test.BucketName(), dir: filepath.Join(t.TempDir(), "grid-s3")}
	o := gridOptions(t, servers, k, happy, n)
	o.S3 = &s3.Config{
		URL: gw.URL, Region: gw.Region, Bucket: g.bucket,
		AccessKeyID: gw.AccessKeyID, SecretAccessKey: gw.SecretAccessKey,
	}
	if err := devgrid.Create(g.dir, o); err != nil {
		t.Fatal(err)
	}
	// The bucket, made as an operator would (the second call finds it
	// made: not an error).
	for i := 0; i < 2; i++ {
		out := tahoe(t, "admin", "create-container", devgrid.NodeDir(g.dir, i))
		if want := "The container s3://" + g.bucket + " at " + gw.URL + " is ready.\n"; out != want {
			t.Fatalf("create-container said %q, want %q", out, want)
		}
	}
	if twin {
		g.diskDir = filepath.Join(t.TempDir(), "grid-disk")
		if out, err := exec.Command("cp", "-a", g.dir, g.diskDir).CombinedOutput(); err != nil {
			t.Fatalf("copy the grid: %v\n%s", err, out)
		}
		nodes, _ := devgrid.Nodes(g.diskDir)
		for _, nd := range nodes {
			setDiskBackend(t, nd)
		}
	}
	t.Cleanup(func() {
		devgrid.Stop(g.dir, nil)
		if g.diskDir != "" {
			devgrid.Stop(g.diskDir, nil)
		}
	})
	return g
}

// setDiskBackend turns a cloud.s3 node directory back into a disk one.
func setDiskBackend(t testing.TB, nd string) {
	t.Helper()
	path := filepath.Join(nd, "tahoe.cfg")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "backend =") || strings.HasPrefix(l, "s3.") {
			continue
		}
		kept = append(kept, l)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t testing.TB, dir string, which ...int) {
	t.Helper()
	if err := devgrid.Start(context.Background(), dir, gridOptions(t, 0, 0, 0, 0), which); err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "storage-*", "node.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b)
		}
		t.Fatal(err)
	}
}

func tahoe(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(command(t, "tahoe"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tahoe %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// tahoeFails runs tahoe expecting failure and returns its stderr.
func tahoeFails(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(command(t, "tahoe"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("tahoe %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return stderr.String()
}

func randomFile(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t testing.TB, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ (%v, %v)", a, b, err1, err2)
	}
}

// storageIndexOf computes the storage index of file under the client's
// convergence secret and encoding, with no grid.
func storageIndexOf(t testing.TB, client, file string, k, n int) string {
	t.Helper()
	capS := strings.TrimSpace(tahoe(t, "debug", "chk-cap", "--needed", strconv.Itoa(k), "--total", strconv.Itoa(n),
		"--convergence-file", filepath.Join(client, "private", "convergence"), file))
	var d struct {
		StorageIndex string `json:"storage_index"`
	}
	if err := json.Unmarshal([]byte(tahoe(t, "debug", "dump-cap", "--json", capS)), &d); err != nil {
		t.Fatal(err)
	}
	return d.StorageIndex
}

// objects lists the share objects of node nd of g, as the paths under the
// node's prefix that versitygw's POSIX backend stores them at.
func (g *s3Grid) objects(t testing.TB, i int) map[string][]byte {
	t.Helper()
	root := filepath.Join(g.gw.Dir, g.bucket, filepath.Base(devgrid.NodeDir(g.dir, i)))
	return readTree(t, filepath.Join(root, "shares"))
}

// listShares asks S3 which shares of si node i's prefix holds.
func (g *s3Grid) listShares(t testing.TB, i int, si string) []int {
	t.Helper()
	b, err := s3.Open(s3.Config{URL: g.gw.URL, Region: g.gw.Region, Bucket: g.bucket, Prefix: filepath.Base(devgrid.NodeDir(g.dir, i)),
		AccessKeyID: g.gw.AccessKeyID, SecretAccessKey: g.gw.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sidx, err := storage.ParseStorageIndex(si)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.List(context.Background(), sidx)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// diskShares lists the disk twin's share files of node i.
func (g *s3Grid) diskShares(t testing.TB, i int) map[string][]byte {
	t.Helper()
	return readTree(t, filepath.Join(devgrid.NodeDir(g.diskDir, i), "storage", "shares"))
}

func readTree(t testing.TB, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && d.Name() == "incoming" {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

// sameContainer compares two immutable containers holding one lease each,
// allowing only the lease's expiration time (the container's last 4
// bytes) to differ by the few seconds between the two uploads.
// It reports whether they are identical to the last byte.
func sameContainer(a, b []byte) (bool, error) {
	if len(a) != len(b) || len(a) < 4 {
		return false, fmt.Errorf("sizes %d and %d", len(a), len(b))
	}
	n := len(a) - 4
	if !bytes.Equal(a[:n], b[:n]) {
		return false, errors.New("contents differ")
	}
	ea, eb := int64(binary.BigEndian.Uint32(a[n:])), int64(binary.BigEndian.Uint32(b[n:]))
	if d := ea - eb; d < -30 || d > 30 {
		return false, fmt.Errorf("lease expirations %d and %d are %ds apart", ea, eb, d)
	}
	return ea == eb, nil
}

var leasesLoadedRE = regexp.MustCompile(`lease log loaded" leases=(\d+)`)

// TestS3Grid: 5 storage node processes with their shares in S3 behind a
// 3-of-5 client: put, get, ls; the shares are objects in the bucket, laid
// out as on disk and byte-identical to what the disk backend writes for
// the same upload; a node killed with SIGKILL mid-upload leaves no partial
// share and the retried upload completes; a node that lost its lease cache
// rebuilds it from the bucket; with S3 stopped the nodes keep running,
// clients get a clear error, and all works again when S3 returns.
func TestS3Grid(t *testing.T) {
	gw := s3test.Start(t)
	g := newS3Grid(t, gw, 5, 3, 5, 5, true)
	start(t, g.dir)
	client := devgrid.ClientDir(g.dir)
	work := t.TempDir()
	small := filepath.Join(work, "small.bin")
	randomFile(t, small, 2_000_000)

	// put, get, ls.
	capS := strings.TrimSpace(tahoe(t, "-d", client, "put", small))
	if !strings.HasPrefix(capS, "URI:CHK:") {
		t.Fatalf("put printed %q", capS)
	}
	tahoe(t, "-d", client, "get", capS, filepath.Join(work, "got.bin"))
	sameFile(t, small, filepath.Join(work, "got.bin"))
	tahoe(t, "-d", client, "create-alias", "home")
	tahoe(t, "-d", client, "put", small, "home:photos.bin")
	if out := tahoe(t, "-d", client, "ls", "home:"); out != "photos.bin\n" {
		t.Errorf("ls home: = %q", out)
	}
	tahoe(t, "-d", client, "get", "home:photos.bin", filepath.Join(work, "via-dir.bin"))
	sameFile(t, small, filepath.Join(work, "via-dir.bin"))

	// The same upload through the disk twin writes the same containers
	// (the twin has the same addresses: one grid runs at a time).
	devgrid.Stop(g.dir, nil)
	shareClientSecrets(t, client, devgrid.ClientDir(g.diskDir))
	start(t, g.diskDir)
	if got := strings.TrimSpace(tahoe(t, "-d", devgrid.ClientDir(g.diskDir), "put", small)); got != capS {
		t.Fatalf("the disk twin's cap %s differs from %s", got, capS)
	}
	si := storageIndexOf(t, client, small, 3, 5)
	compared, identical := 0, 0
	for i := 0; i < 5; i++ {
		objs, files := g.objects(t, i), g.diskShares(t, i)
		for path, disk := range files {
			if !strings.Contains(path, si) {
				continue
			}
			obj, ok := objs[path]
			if !ok {
				t.Errorf("node %d: %s is on disk but not in the bucket", i, path)
				continue
			}
			same, err := sameContainer(obj, disk)
			if err != nil {
				t.Errorf("node %d: %s: the object differs from the disk backend's file: %v", i, path, err)
			}
			if same {
				identical++
			}
			compared++
		}
	}
	if compared != 5 {
		t.Errorf("compared %d shares of %s, want 5 (one per node)", compared, si)
	}
	t.Logf("%d of %d share objects byte-identical to the disk backend's files (the others differ only in the lease's expiration second)", identical, compared)
	devgrid.Stop(g.diskDir, nil)
	start(t, g.dir)

	// kill -9 of a node in the middle of an upload.
	big := filepath.Join(work, "big.bin")
	randomFile(t, big, 200<<20) // as the issue asks: 200 MiB
	bigSI := storageIndexOf(t, client, big, 3, 5)
	put := exec.Command(command(t, "tahoe"), "-d", client, "put", big)
	var putOut bytes.Buffer
	put.Stdout, put.Stderr = &putOut, &putOut
	if err := put.Start(); err != nil {
		t.Fatal(err)
	}
	victim := devgrid.NodeDir(g.dir, 2)
	waitForSpool(t, victim, 4<<20, 60*time.Second)
	pid, ok := devgrid.Running(victim)
	if !ok {
		t.Fatal("node 2 is not running")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	putErr := put.Wait()
	t.Logf("put during the kill: %v: %s", putErr, strings.TrimSpace(putOut.String()))
	for path := range g.objects(t, 2) {
		if strings.Contains(path, bigSI) {
			t.Errorf("a share of the interrupted upload is visible on the killed node: %s", path)
		}
	}
	// And through S3 itself: listing the node's prefix shows none.
	if got := g.listShares(t, 2, bigSI); len(got) != 0 {
		t.Errorf("S3 lists shares %v of the interrupted upload under the killed node's prefix", got)
	}
	devgrid.Stop(g.dir, []int{2})
	start(t, g.dir, 2)
	for path := range g.objects(t, 2) {
		if strings.Contains(path, bigSI) {
			t.Errorf("a share of the interrupted upload appeared after the restart: %s", path)
		}
	}
	bigCap := strings.TrimSpace(tahoe(t, "-d", client, "put", big))
	tahoe(t, "-d", client, "get", bigCap, filepath.Join(work, "big-got.bin"))
	sameFile(t, big, filepath.Join(work, "big-got.bin"))
	if n := countSI(g.objects(t, 2), bigSI); n != 1 {
		t.Errorf("the retried upload left %d shares on node 2, want 1", n)
	}

	// The lease cache of node 0 is lost: the node rebuilds it from the
	// bucket, one lease per storage index it holds.
	n0 := devgrid.NodeDir(g.dir, 0)
	devgrid.Stop(g.dir, []int{0})
	cache := filepath.Join(n0, "storage", node.LeaseCacheFile)
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no lease cache: %v", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(cache + suffix)
	}
	os.Truncate(filepath.Join(n0, "node.log"), 0)
	start(t, g.dir, 0)
	logB, _ := os.ReadFile(filepath.Join(n0, "node.log"))
	m := leasesLoadedRE.FindSubmatch(logB)
	held := indexes(g.objects(t, 0))
	if m == nil || string(m[1]) != strconv.Itoa(held) {
		t.Errorf("node 0 rebuilt %s leases, want %d (one per storage index it holds):\n%s", m, held, logB)
	}

	// S3 goes away: the nodes keep running and clients are told why.
	gw.Stop(t)
	stderr := tahoeFails(t, "-d", client, "get", capS, filepath.Join(work, "during.bin"))
	if !strings.Contains(stderr, "share backend is unavailable; try again later") || strings.Contains(stderr, gw.URL) {
		t.Errorf("get with S3 down says:\n%s", stderr)
	}
	log0, _ := os.ReadFile(filepath.Join(n0, "node.log"))
	if !strings.Contains(string(log0), "share backend unavailable") || !strings.Contains(string(log0), "S3 service unavailable at "+gw.URL) {
		t.Errorf("node 0's log does not say S3 is unavailable:\n%s", log0)
	}
	t.Logf("get with S3 down: %s", strings.TrimSpace(stderr))
	for i := 0; i < 5; i++ {
		if _, ok := devgrid.Running(devgrid.NodeDir(g.dir, i)); !ok {
			t.Errorf("node %d exited while S3 was down", i)
		}
	}
	gw.Restart(t)
	tahoe(t, "-d", client, "get", capS, filepath.Join(work, "after.bin"))
	sameFile(t, small, filepath.Join(work, "after.bin"))
	after := filepath.Join(work, "after-outage.bin")
	randomFile(t, after, 300_000)
	tahoe(t, "-d", client, "put", after)
}

// waitForSpool waits until node nd holds part of an upload in a spool
// file (unlinked, so seen through /proc/PID/fd) of at least min bytes.
// shareClientSecrets copies the client secrets made at first use
// (convergence, lease secret) from one client directory to another.
func shareClientSecrets(t testing.TB, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(from, "private"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "servers.yaml" || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, "private", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, "private", e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func waitForSpool(t testing.TB, nd string, min int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		pid, ok := devgrid.Running(nd)
		if !ok {
			t.Fatalf("%s is not running", nd)
		}
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			p := fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())
			if l, err := os.Readlink(p); err == nil && strings.Contains(l, ".lafs-s3-spool-") {
				if st, err := os.Stat(p); err == nil && st.Size() >= min {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never spooled %d bytes of an upload", nd, min)
}

func countSI(objs map[string][]byte, si string) int {
	n := 0
	for p := range objs {
		if strings.Contains(p, "/"+si+"/") {
			n++
		}
	}
	return n
}

func indexes(objs map[string][]byte) int {
	seen := map[string]bool{}
	for p := range objs {
		if parts := strings.Split(p, "/"); len(parts) == 3 {
			seen[parts[1]] = true
		}
	}
	return len(seen)
}

// TestDirectS3: a client whose servers.yaml names bucket prefixes
// (lafs-s3 blocks) instead of storage servers puts and gets with no node
// running; storage nodes pointed later at the same bucket and prefixes
// serve the same files to a normal client.
func TestDirectS3(t *testing.T) {
	gw := s3test.Start(t)
	bucket := s3test.BucketName()
	work := t.TempDir()
	direct := filepath.Join(work, "direct")
	tahoe(t, "create-client", "--shares-needed", "3", "--shares-happy", "5", "--shares-total", "5", "--webport", "none", direct)
	if err := os.WriteFile(filepath.Join(direct, "private", "s3secret"), []byte(gw.SecretAccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var yml strings.Builder
	yml.WriteString("storage:\n")
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&yml, "  bucket-part-%d:\n    lafs-s3:\n      url: %s\n      region: %s\n      bucket: %s\n      prefix: storage-%02d\n      access_key_id: %s\n",
			i, gw.URL, gw.Region, bucket, i, gw.AccessKeyID)
	}
	if err := os.WriteFile(filepath.Join(direct, "private", "servers.yaml"), []byte(yml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s3.CreateBucket(context.Background(), s3.Config{URL: gw.URL, Region: gw.Region, Bucket: bucket,
		AccessKeyID: gw.AccessKeyID, SecretAccessKey: gw.SecretAccessKey}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(work, "file.bin")
	randomFile(t, file, 1_500_000)
	capS := strings.TrimSpace(tahoe(t, "-d", direct, "put", file))
	tahoe(t, "-d", direct, "get", capS, filepath.Join(work, "direct-got.bin"))
	sameFile(t, file, filepath.Join(work, "direct-got.bin"))
	dirCap := strings.TrimSpace(tahoe(t, "-d", direct, "mkdir"))
	tahoe(t, "-d", direct, "put", file, dirCap+"/f.bin")
	if out := tahoe(t, "-d", direct, "ls", dirCap); out != "f.bin\n" {
		t.Errorf("direct ls = %q", out)
	}
	// The shares are objects under each prefix, in the disk layout.
	si := storageIndexOf(t, direct, file, 3, 5)
	for i := 0; i < 5; i++ {
		ents, _ := os.ReadDir(filepath.Join(gw.Dir, bucket, fmt.Sprintf("storage-%02d", i), "shares", si[:2], si))
		if len(ents) != 1 {
			t.Errorf("prefix storage-%02d holds %d shares of %s, want 1", i, len(ents), si)
		}
	}

	// Storage nodes on the same bucket and prefixes serve them.
	g := filepath.Join(work, "grid")
	o := gridOptions(t, 5, 3, 5, 5)
	o.S3 = &s3.Config{URL: gw.URL, Region: gw.Region, Bucket: bucket, AccessKeyID: gw.AccessKeyID, SecretAccessKey: gw.SecretAccessKey}
	if err := devgrid.Create(g, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devgrid.Stop(g, nil) })
	start(t, g)
	client := devgrid.ClientDir(g)
	tahoe(t, "-d", client, "get", capS, filepath.Join(work, "node-got.bin"))
	sameFile(t, file, filepath.Join(work, "node-got.bin"))
	if out := tahoe(t, "-d", client, "ls", dirCap); out != "f.bin\n" {
		t.Errorf("ls through the nodes = %q", out)
	}
	tahoe(t, "-d", client, "get", dirCap+"/f.bin", filepath.Join(work, "node-dir-got.bin"))
	sameFile(t, file, filepath.Join(work, "node-dir-got.bin"))
	// No lease was written to the bucket by the direct client: nothing
	// there can expire.
	if logs, _ := filepath.Glob(filepath.Join(gw.Dir, bucket, "storage-*", "leases")); len(logs) != 0 {
		t.Errorf("the direct client wrote lease records: %v", logs)
	}
}
