package backup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/webapi"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// requestLog records the requests a node is sent, caps replaced by CAP.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

var capInPath = regexp.MustCompile(`URI%3A[^/?]*`)

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+capInPath.ReplaceAllString(r.URL.RequestURI(), "CAP"))
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// gatewayNode serves the fixture's grid through our own web API on
// loopback and returns a gateway store for it and the log of what it is
// sent.
func gatewayNode(t *testing.T, fx *fixture) (*gateway.Store, *requestLog) {
	t.Helper()
	srv, err := webapi.New(webapi.Options{Store: fx.s, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	log := &requestLog{}
	hs := httptest.NewServer(log.wrap(srv))
	t.Cleanup(hs.Close)
	g := gateway.New(hs.URL, gateway.Options{})
	t.Cleanup(func() { _ = g.Close() })
	return g, log
}

// TestGatewayRequests: through a node's web API a backup makes as many
// requests as Tahoe's own backup and no more: one look at TO, one mkdir
// of TO/Archives by path when it is missing, one PUT per file, one
// mkdir-immutable per directory, and the two links (into the caps the
// look found, else by path). A re-run with nothing changed is three
// requests. (The engine used to walk and
// make TO and Archives a directory at a time and look TO up again to
// link Latest: 17 requests for this tree, 6 for the re-run.)
func TestGatewayRequests(t *testing.T) {
	fx := newFixture(t)
	g, log := gatewayNode(t, fx)
	fx.write("a.txt", strings.Repeat("a", 100))
	fx.write("b.txt", strings.Repeat("b", 200))
	fx.write("sub/c.txt", strings.Repeat("c", 300))
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	sum, _, err := fx.run(g, "bk/set", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := log.take()
	// Uploads and directories may interleave; their counts are what count.
	want := []string{
		"GET /uri/CAP/bk/set?t=json",
		"POST /uri/CAP/bk/set/Archives?t=mkdir",
		"PUT /uri", "PUT /uri", "PUT /uri",
		"POST /uri?t=mkdir-immutable", "POST /uri?t=mkdir-immutable",
		"PUT /uri/CAP/2026-12-01_10%3A00%3A00Z?t=uri&replace=true",
		"PUT /uri/CAP/bk/set/Latest?t=uri&replace=true",
	}
	checkRequests(t, "first run", got, want)
	if sum.FilesUploaded != 3 || sum.DirsCreated != 2 {
		t.Fatalf("first run: %+v", sum)
	}
	latest, err := fx.s.Resolve(context.Background(), fx.root, "bk/set/Latest")
	if err != nil || latest.String() != sum.Cap.String() {
		t.Fatalf("Latest: %v %v", latest, err)
	}
	if c, err := fx.s.Resolve(context.Background(), fx.root, "bk/set/Archives/2026-12-01_10:00:00Z"); err != nil || c.String() != sum.Cap.String() {
		t.Fatalf("Archives/<time>: %v %v", c, err)
	}

	clock = clock.Add(time.Minute)
	again, _, err := fx.run(g, "bk/set", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkRequests(t, "re-run", log.take(), []string{
		"GET /uri/CAP/bk/set?t=json",
		"PUT /uri/CAP/2026-12-01_10%3A01%3A00Z?t=uri&replace=true",
		"PUT /uri/CAP/Latest?t=uri&replace=true",
	})
	if again.FilesReused != 3 || again.DirsReused != 2 || again.Cap.String() != sum.Cap.String() {
		t.Fatalf("re-run: %+v", again)
	}

	// A TO that exists without Archives: Archives is made by path, and
	// both links go into the caps the look found.
	ctx := context.Background()
	plain, err := fx.s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.s.Link(ctx, fx.root, "plain", plain, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.run(g, "plain", Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	checkRequests(t, "existing TO", log.take(), []string{
		"GET /uri/CAP/plain?t=json",
		"POST /uri/CAP/plain/Archives?t=mkdir",
		"PUT /uri/CAP/2026-12-01_10%3A01%3A00Z?t=uri&replace=true",
		"PUT /uri/CAP/Latest?t=uri&replace=true",
	})
	if c, err := fx.s.Resolve(ctx, plain, "Latest"); err != nil || c.String() != sum.Cap.String() {
		t.Fatalf("plain/Latest: %v %v", c, err)
	}

	// A TO that is a file cannot hold Archives: the node says so.
	if _, _, err := fx.run(g, "bk/set/Latest/a.txt", Options{Now: now}); !errors.Is(err, ErrCreateTarget) {
		t.Fatalf("TO a file: %v, want ErrCreateTarget", err)
	}
	log.take()

	// The same tree backed up directly makes the same snapshot.
	direct, _, err := fx.run(fx.s, "direct", Options{Now: now, IgnoreTimestamps: true})
	if err != nil || direct.Cap.String() != sum.Cap.String() {
		t.Fatalf("direct: %v %v, want the gateway's %v", direct.Cap, err, sum.Cap)
	}
}

// checkRequests compares a request log with want: the first two and the
// last two in order, the rest as a multiset.
func checkRequests(t *testing.T, what string, got, want []string) {
	t.Helper()
	fail := func() {
		t.Fatalf("%s: %d requests:\n%s\nwant %d:\n%s", what, len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	if len(got) != len(want) {
		fail()
	}
	n := len(want)
	ends := 2
	if n < 4 {
		ends = 1
	}
	for i := 0; i < ends; i++ {
		if got[i] != want[i] || got[n-1-i] != want[n-1-i] {
			fail()
		}
	}
	mid := func(s []string) string {
		m := append([]string(nil), s[ends:n-ends]...)
		sort.Strings(m)
		return strings.Join(m, "\n")
	}
	if mid(got) != mid(want) {
		fail()
	}
}

// overlapStore is a real store that records how many uploads of each
// content run at once, each held a moment so that overlaps show.
type overlapStore struct {
	filestore.Store
	mu              sync.Mutex
	running         map[[32]byte]int
	total, maxTotal int
	maxSame         int
}

func (s *overlapStore) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(src, 0, size)); err != nil {
		return nil, err
	}
	var k [32]byte
	h.Sum(k[:0])
	s.mu.Lock()
	s.running[k]++
	s.total++
	s.maxSame = max(s.maxSame, s.running[k])
	s.maxTotal = max(s.maxTotal, s.total)
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	defer func() {
		s.mu.Lock()
		s.running[k]--
		s.total--
		s.mu.Unlock()
	}()
	return s.Store.Upload(ctx, src, size, o)
}

// TestIdenticalFilesOneAtATime: files with the same contents never upload
// at the same time (a Tahoe-LAFS node fails the second with "placed 0
// shares"), while different files still fill the window; large files of
// one size that differ only in the middle wait for each other but are
// backed up.
func TestIdenticalFilesOneAtATime(t *testing.T) {
	fx := newFixture(t)
	same := strings.Repeat("same contents ", 20)
	for i := 0; i < 12; i++ {
		fx.write(fmt.Sprintf("d%d/dup%02d", i%3, i), same)
		fx.write(fmt.Sprintf("d%d/own%02d", i%3, i), fmt.Sprintf("%s %d", same, i))
	}
	big := strings.Repeat("x", sameFullHash+3*sameEdge)
	fx.write("big1", big)
	fx.write("big2", big[:sameFullHash]+"y"+big[sameFullHash+1:])
	s := &overlapStore{Store: fx.s, running: map[[32]byte]int{}}
	sum, _, err := fx.run(s, "bk", Options{Parallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesUploaded != 26 {
		t.Fatalf("%+v", sum)
	}
	if s.maxSame != 1 || s.maxTotal < 4 {
		t.Fatalf("at most %d uploads of one content at once (want 1), %d in all (want the window filled)", s.maxSame, s.maxTotal)
	}
	k1, _ := keyOf(strings.NewReader(big), int64(len(big)))
	k2, _ := keyOf(strings.NewReader(big[:sameFullHash]+"y"+big[sameFullHash+1:]), int64(len(big)))
	if k1 != k2 {
		t.Fatal("two large files of one size with the same ends should share a key")
	}
}

// sickStore is a real store whose checks all find the object unhealthy.
type sickStore struct{ filestore.Store }

func (sickStore) Check(context.Context, *caps.Cap, health.CheckOptions) (*health.Results, error) {
	return &health.Results{Healthy: false}, nil
}

// TestDueACheck: entries of the database old enough to be due a check
// are checked on the grid, as Tahoe's backup does (one t=check each, no
// upload when healthy, and counted); found unhealthy, they are uploaded
// and made again.
func TestDueACheck(t *testing.T) {
	fx := newFixture(t)
	g, log := gatewayNode(t, fx)
	fx.write("a.txt", strings.Repeat("a", 100))
	fx.write("b.txt", strings.Repeat("b", 200))
	fx.write("sub/c.txt", strings.Repeat("c", 300))
	first, _, err := fx.run(g, "bk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	fx.db.Now = func() time.Time { return time.Now().Add(61 * 24 * time.Hour) } // past ALWAYS_CHECK_AFTER
	sum, lines, err := fx.run(g, "bk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesChecked != 3 || sum.DirsChecked != 2 || sum.FilesReused != 3 || sum.DirsReused != 2 || sum.FilesUploaded != 0 || sum.Cap.String() != first.Cap.String() {
		t.Fatalf("due a check: %+v", sum)
	}
	checkRequests(t, "due a check", log.take(), []string{
		"GET /uri/CAP/bk?t=json",
		"POST /uri/CAP?t=check&output=JSON",
		"POST /uri/CAP?t=check&output=JSON", "POST /uri/CAP?t=check&output=JSON",
		"POST /uri/CAP?t=check&output=JSON", "POST /uri/CAP?t=check&output=JSON",
		"PUT /uri/CAP/" + strings.ReplaceAll(sum.Archive, ":", "%3A") + "?t=uri&replace=true",
		"PUT /uri/CAP/Latest?t=uri&replace=true",
	})
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "verbose checking 'URI:CHK:") || !strings.Contains(joined, "verbose checking 'URI:DIR2-CHK:") || !strings.Contains(joined, "verbose skipping 'TREE/a.txt'..") {
		t.Fatalf("verbose lines:\n%s", joined)
	}
	// Checked just now, they are not due again.
	again, _, err := fx.run(g, "bk", Options{})
	if err != nil || again.FilesChecked != 0 || again.DirsChecked != 0 {
		t.Fatalf("after the checks: %+v %v", again, err)
	}

	fx.db.Now = func() time.Time { return time.Now().Add(200 * 24 * time.Hour) }
	sick, _, err := fx.run(sickStore{fx.s}, "bk", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sick.FilesChecked != 3 || sick.FilesUploaded != 3 || sick.DirsChecked != 2 || sick.DirsCreated != 2 || sick.Cap.String() != first.Cap.String() {
		t.Fatalf("found unhealthy: %+v", sick)
	}
}
