// Package backendtest is the conformance suite of backend.Backend: every
// implementation runs Run against fresh instances of itself, so the share
// store can rely on the same semantics from disk, memory and object
// stores. It owns no implementation.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// Run runs the conformance suite. open returns a new, empty backend; Run
// closes it when each subtest ends.
func Run(t *testing.T, open func(t *testing.T) backend.Backend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b backend.Backend)
	}{
		{"CreateIsInvisibleUntilCommit", testCreateInvisible},
		{"CommitNeverReplaces", testCommitNeverReplaces},
		{"ConcurrentCreateOneWinner", testConcurrentCreate},
		{"CloseWithoutCommitDiscards", testCloseDiscards},
		{"WriterReadsOwnWritesAndHoles", testWriterReads},
		{"WriterAfterCommit", testWriterAfterCommit},
		{"EditCommit", testEdit},
		{"EditMissing", testEditMissing},
		{"ConcurrentEditsLoseNothing", testConcurrentEdits},
		{"ReaderShortReads", testReader},
		{"ListSortedPerIndex", testList},
		{"WalkVisitsEveryIndex", testWalk},
		{"Remove", testRemove},
		{"LockIsExclusive", testLock},
		{"LockHonoursContext", testLockContext},
		{"FreeSpace", testFreeSpace},
		{"AuxObjects", testAux},
		{"ListAndDeleteAux", testListAux},
		{"ShareNumberRange", testShareNumbers},
		{"CancelledContext", testCancelled},
		{"ParallelUploads", testParallel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, b)
		})
	}
}

// SI returns a storage index made of one repeated byte, for tests.
func SI(b byte) storage.StorageIndex {
	var si storage.StorageIndex
	for i := range si {
		si[i] = b
	}
	return si
}

// Put creates and commits a container holding data.
func Put(t testing.TB, b backend.Backend, si storage.StorageIndex, shnum int, data []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := b.Create(ctx, si, shnum, int64(len(data)))
	if err != nil {
		t.Fatalf("Create %s/%d: %v", si, shnum, err)
	}
	defer w.Close()
	if _, err := w.WriteAt(data, 0); err != nil {
		t.Fatalf("WriteAt: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit %s/%d: %v", si, shnum, err)
	}
}

// Get reads a whole committed container.
func Get(t testing.TB, b backend.Backend, si storage.StorageIndex, shnum int) []byte {
	t.Helper()
	r, err := b.Open(context.Background(), si, shnum)
	if err != nil {
		t.Fatalf("Open %s/%d: %v", si, shnum, err)
	}
	defer r.Close()
	out, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatalf("read %s/%d: %v", si, shnum, err)
	}
	return out
}

func list(t *testing.T, b backend.Backend, si storage.StorageIndex) []int {
	t.Helper()
	got, err := b.List(context.Background(), si)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testCreateInvisible(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(1)
	w, err := b.Create(ctx, si, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("0123456789"), 0); err != nil {
		t.Fatal(err)
	}
	if got := list(t, b, si); len(got) != 0 {
		t.Errorf("List before Commit = %v, want none", got)
	}
	if _, err := b.Open(ctx, si, 3); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Open before Commit: %v, want ErrNotExist", err)
	}
	walked := 0
	if err := b.Walk(ctx, func(storage.StorageIndex) error { walked++; return nil }); err != nil {
		t.Fatal(err)
	}
	if walked != 0 {
		t.Errorf("Walk before Commit visited %d indexes", walked)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list(t, b, si); !equalInts(got, []int{3}) {
		t.Errorf("List after Commit = %v, want [3]", got)
	}
	if got := Get(t, b, si, 3); string(got) != "0123456789" {
		t.Errorf("content = %q", got)
	}
}

func testCommitNeverReplaces(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(2)
	Put(t, b, si, 0, []byte("first"))
	w, err := b.Create(ctx, si, 0, -1)
	if err != nil {
		t.Fatalf("Create over a committed container: %v (only incoming ones may conflict)", err)
	}
	defer w.Close()
	w.WriteAt([]byte("second"), 0)
	if err := w.Commit(ctx); !errors.Is(err, backend.ErrExist) {
		t.Fatalf("Commit over a committed container: %v, want ErrExist", err)
	}
	if got := Get(t, b, si, 0); string(got) != "first" {
		t.Errorf("content = %q, want the first commit's", got)
	}
}

func testConcurrentCreate(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(3)
	w1, err := b.Create(ctx, si, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	w1.WriteAt([]byte("one"), 0)
	w2, err := b.Create(ctx, si, 1, -1)
	if errors.Is(err, backend.ErrExist) {
		// The backend tells incoming writers apart: fine.
		if err := w1.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	w2.WriteAt([]byte("two"), 0)
	e1, e2 := w1.Commit(ctx), w2.Commit(ctx)
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("commits: %v, %v; want exactly one to succeed", e1, e2)
	}
	if e1 != nil && !errors.Is(e1, backend.ErrExist) || e2 != nil && !errors.Is(e2, backend.ErrExist) {
		t.Errorf("losing commit: %v %v, want ErrExist", e1, e2)
	}
}

func testCloseDiscards(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(4)
	w, err := b.Create(ctx, si, 2, -1)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt([]byte("abandoned"), 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err == nil {
		t.Error("Commit after Close succeeded")
	}
	if got := list(t, b, si); len(got) != 0 {
		t.Errorf("List = %v after an abandoned create", got)
	}
	// The name is free again.
	Put(t, b, si, 2, []byte("kept"))
	if got := Get(t, b, si, 2); string(got) != "kept" {
		t.Errorf("content = %q", got)
	}
}

func testWriterReads(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	w, err := b.Create(ctx, SI(5), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Size() != 0 {
		t.Errorf("new writer Size = %d", w.Size())
	}
	w.WriteAt([]byte("abc"), 0)
	w.WriteAt([]byte("xyz"), 10) // leaves a hole of 7 bytes
	if w.Size() != 13 {
		t.Errorf("Size = %d, want 13", w.Size())
	}
	got := make([]byte, 13)
	if n, err := w.ReadAt(got, 0); n != 13 || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if want := []byte("abc\x00\x00\x00\x00\x00\x00\x00xyz"); !bytes.Equal(got, want) {
		t.Errorf("ReadAt = %q, want %q", got, want)
	}
	w.WriteAt([]byte("B"), 1)
	one := make([]byte, 1)
	w.ReadAt(one, 1)
	if one[0] != 'B' {
		t.Errorf("overwrite not seen: %q", one)
	}
	if n, err := w.ReadAt(make([]byte, 5), 11); n != 2 || err != io.EOF {
		t.Errorf("ReadAt past the end = %d, %v; want 2, EOF", n, err)
	}
}

func testWriterAfterCommit(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	w, err := b.Create(ctx, SI(6), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteAt([]byte("hello"), 0)
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 5)
	if _, err := w.ReadAt(p, 0); err != nil && err != io.EOF || string(p) != "hello" {
		t.Errorf("ReadAt after Commit = %q, %v", p, err)
	}
	if _, err := w.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt after Commit succeeded")
	}
	if err := w.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
}

func testEdit(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(7)
	Put(t, b, si, 4, []byte("0123456789"))
	unlock, err := b.Lock(ctx, si)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	e, err := b.Edit(ctx, si, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Size() != 10 {
		t.Errorf("Edit Size = %d", e.Size())
	}
	p := make([]byte, 4)
	e.ReadAt(p, 2)
	if string(p) != "2345" {
		t.Errorf("Edit ReadAt = %q", p)
	}
	e.WriteAt([]byte("AB"), 2)
	e.WriteAt([]byte("tail"), 12)
	if e.Size() != 16 {
		t.Errorf("Size after growth = %d", e.Size())
	}
	if err := e.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := Get(t, b, si, 4), []byte("01AB456789\x00\x00tail"); !bytes.Equal(got, want) {
		t.Errorf("after edit = %q, want %q", got, want)
	}
}

// testConcurrentEdits: two edits of one container opened before either
// commits (writers the Lock did not exclude) never lose an update: either
// both writes land (an in-place backend) or the later commit fails with
// ErrConflict and leaves the earlier one's content.
func testConcurrentEdits(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(43)
	Put(t, b, si, 0, []byte("...."))
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
	e1.WriteAt([]byte("A"), 0)
	e2.WriteAt([]byte("B"), 1)
	if err := e1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = e2.Commit(ctx)
	got := string(Get(t, b, si, 0))
	switch {
	case err == nil && got != "AB..":
		t.Errorf("both commits succeeded but the container is %q, want %q", got, "AB..")
	case err != nil && !errors.Is(err, backend.ErrConflict):
		t.Errorf("second commit: %v, want nil or ErrConflict", err)
	case err != nil && got != "A...":
		t.Errorf("after a refused commit the container is %q, want %q", got, "A...")
	}
}

func testEditMissing(t *testing.T, b backend.Backend) {
	if _, err := b.Edit(context.Background(), SI(8), 0); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Edit of a missing container: %v, want ErrNotExist", err)
	}
}

func testReader(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(9)
	Put(t, b, si, 0, []byte("abcdef"))
	r, err := b.Open(ctx, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 6 {
		t.Errorf("Size = %d", r.Size())
	}
	p := make([]byte, 4)
	if n, err := r.ReadAt(p, 4); n != 2 || err != io.EOF || string(p[:n]) != "ef" {
		t.Errorf("short ReadAt = %d %v %q", n, err, p[:n])
	}
	if n, err := r.ReadAt(p, 6); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v", n, err)
	}
	if _, err := b.Open(ctx, si, 1); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Open missing share: %v", err)
	}
}

func testList(t *testing.T, b backend.Backend) {
	si, other := SI(10), SI(11)
	for _, n := range []int{9, 0, 255, 3} {
		Put(t, b, si, n, []byte{byte(n)})
	}
	Put(t, b, other, 1, []byte("x"))
	if got := list(t, b, si); !equalInts(got, []int{0, 3, 9, 255}) {
		t.Errorf("List = %v", got)
	}
	if got := list(t, b, SI(12)); len(got) != 0 {
		t.Errorf("List of an unknown index = %v", got)
	}
}

func testWalk(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	want := map[storage.StorageIndex]bool{}
	for i := byte(20); i < 25; i++ {
		Put(t, b, SI(i), 0, []byte{i})
		want[SI(i)] = true
	}
	got := map[storage.StorageIndex]bool{}
	if err := b.Walk(ctx, func(si storage.StorageIndex) error { got[si] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for si := range want {
		if !got[si] {
			t.Errorf("Walk missed %s", si)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := b.Walk(ctx, func(storage.StorageIndex) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with an erroring fn: %v after %d calls", err, calls)
	}
}

func testRemove(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(30)
	Put(t, b, si, 1, []byte("a"))
	Put(t, b, si, 2, []byte("b"))
	unlock, err := b.Lock(ctx, si)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, si, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, si, 1); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("second Remove: %v, want ErrNotExist", err)
	}
	unlock()
	if got := list(t, b, si); !equalInts(got, []int{2}) {
		t.Errorf("List after Remove = %v", got)
	}
	// A removed name can be created again.
	Put(t, b, si, 1, []byte("again"))
	if got := Get(t, b, si, 1); string(got) != "again" {
		t.Errorf("recreated content = %q", got)
	}
}

func testLock(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	si := SI(31)
	unlock, err := b.Lock(ctx, si)
	if err != nil {
		t.Fatal(err)
	}
	// Another index is independent.
	u2, err := b.Lock(ctx, SI(32))
	if err != nil {
		t.Fatal(err)
	}
	u2()
	var mu sync.Mutex
	order := []string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := b.Lock(ctx, si)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		u()
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	order = append(order, "first")
	mu.Unlock()
	unlock()
	<-done
	if len(order) != 2 || order[0] != "first" {
		t.Errorf("lock order = %v, want the second holder to wait", order)
	}
}

func testLockContext(t *testing.T, b backend.Backend) {
	si := SI(33)
	unlock, err := b.Lock(context.Background(), si)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if u, err := b.Lock(ctx, si); err == nil {
		u()
		t.Fatal("Lock of a held index succeeded")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with an expiring ctx: %v, want DeadlineExceeded", err)
	}
}

func testFreeSpace(t *testing.T, b backend.Backend) {
	n, err := b.FreeSpace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 && n != backend.UnknownSpace {
		t.Errorf("FreeSpace = %d", n)
	}
}

func testAux(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	if _, err := b.GetAux(ctx, "corruption-advisories/x"); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("GetAux of a missing key: %v", err)
	}
	if err := b.PutAux(ctx, "corruption-advisories/2026-01-01T000000.000000Z--abc-1", []byte("report")); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetAux(ctx, "corruption-advisories/2026-01-01T000000.000000Z--abc-1")
	if err != nil || string(got) != "report" {
		t.Errorf("GetAux = %q, %v", got, err)
	}
	if err := b.PutAux(ctx, "corruption-advisories/2026-01-01T000000.000000Z--abc-1", []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.GetAux(ctx, "corruption-advisories/2026-01-01T000000.000000Z--abc-1"); string(got) != "again" {
		t.Errorf("replaced aux = %q", got)
	}
	for _, bad := range []string{"", "/abs", "a/../b", "..", "shares/x", "a//b", "a b", "a/"} {
		if err := b.PutAux(ctx, bad, []byte("x")); err == nil {
			t.Errorf("PutAux(%q) succeeded", bad)
		}
	}
}

func testListAux(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	listAux := func(prefix string) []string {
		t.Helper()
		got, err := b.ListAux(ctx, prefix)
		if err != nil {
			t.Fatalf("ListAux(%q): %v", prefix, err)
		}
		return got
	}
	if got := listAux(""); len(got) != 0 {
		t.Errorf("ListAux of an empty backend = %q", got)
	}
	// Shares are not auxiliary objects.
	Put(t, b, SI(43), 0, []byte("share"))
	keys := []string{"leases/log/0002-b", "leases/log/0001-a", "leases/snap/0001/done", "leases-x", "other"}
	for _, k := range keys {
		if err := b.PutAux(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"leases-x", "leases/log/0001-a", "leases/log/0002-b", "leases/snap/0001/done", "other"}},
		{"leases/", []string{"leases/log/0001-a", "leases/log/0002-b", "leases/snap/0001/done"}},
		{"leases/log/", []string{"leases/log/0001-a", "leases/log/0002-b"}},
		{"leases/log/0002", []string{"leases/log/0002-b"}},
		{"lea", []string{"leases-x", "leases/log/0001-a", "leases/log/0002-b", "leases/snap/0001/done"}},
		{"nothing/", nil},
		{"shares/", nil},
	} {
		if got := listAux(tc.prefix); !equalStrings(got, tc.want) {
			t.Errorf("ListAux(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	if err := b.DeleteAux(ctx, "leases/log/0001-a"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteAux(ctx, "leases/log/0001-a"); err != nil {
		t.Errorf("DeleteAux of a missing key: %v", err)
	}
	if _, err := b.GetAux(ctx, "leases/log/0001-a"); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("GetAux after DeleteAux: %v, want ErrNotExist", err)
	}
	if got := listAux("leases/log/"); !equalStrings(got, []string{"leases/log/0002-b"}) {
		t.Errorf("ListAux after DeleteAux = %q", got)
	}
	for _, bad := range []string{"", "shares/x", "a/../b"} {
		if err := b.DeleteAux(ctx, bad); err == nil {
			t.Errorf("DeleteAux(%q) succeeded", bad)
		}
	}
	if got := list(t, b, SI(43)); !equalInts(got, []int{0}) {
		t.Errorf("shares after aux operations = %v", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testShareNumbers(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	for _, n := range []int{-1, 256, 1000} {
		if w, err := b.Create(ctx, SI(40), n, -1); err == nil {
			w.Close()
			t.Errorf("Create share %d succeeded", n)
		}
		if _, err := b.Open(ctx, SI(40), n); err == nil {
			t.Errorf("Open share %d succeeded", n)
		}
	}
}

func testCancelled(t *testing.T, b backend.Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if w, err := b.Create(ctx, SI(41), 0, -1); err == nil {
		w.Close()
		t.Error("Create with a cancelled ctx succeeded")
	}
	if _, err := b.List(ctx, SI(41)); err == nil {
		t.Error("List with a cancelled ctx succeeded")
	}
}

func testParallel(t *testing.T, b backend.Backend) {
	si := SI(42)
	var wg sync.WaitGroup
	for n := 0; n < 16; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			w, err := b.Create(ctx, si, n, 4096)
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			chunk := bytes.Repeat([]byte{byte(n)}, 256)
			for off := int64(0); off < 4096; off += 256 {
				if _, err := w.WriteAt(chunk, off); err != nil {
					t.Error(err)
					return
				}
			}
			if err := w.Commit(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := list(t, b, si)
	if len(got) != 16 {
		t.Fatalf("List = %v, want 16 shares", got)
	}
	for _, n := range got {
		if data := Get(t, b, si, n); !bytes.Equal(data, bytes.Repeat([]byte{byte(n)}, 4096)) {
			t.Errorf("share %d content wrong", n)
		}
	}
}
