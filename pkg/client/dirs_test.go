package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

func TestDirectories(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 5, nodedir.Encoding{Needed: 3, Happy: 4, Total: 5, MaxSegmentSize: 1 << 20})
	root, err := c.Mkdir(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if root.Kind != caps.KindDIR2 {
		t.Fatalf("kind %s", root.Kind)
	}
	sub, err := c.Mkdir(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	file := caps.NewLIT([]byte("hi"))
	if err := c.Link(ctx, root, "sub", sub, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Link(ctx, sub, "héllo.txt", file, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Link(ctx, root, "sub", file, false); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate link: %v", err)
	}
	// The name was linked in NFC; an NFD spelling finds it too.
	got, err := c.Resolve(ctx, root, "sub/he\u0301llo.txt")
	if err != nil || got.String() != file.String() {
		t.Fatalf("resolve: %v %v", got, err)
	}
	// A read cap lists children with read caps only, and cannot write.
	ro := root.ReadOnly()
	es, err := c.ReadDir(ctx, ro)
	if err != nil || len(es) != 1 || es[0].RWCap != "" || es[0].ROCap != sub.ReadOnly().String() {
		t.Fatalf("read-only listing %+v %v", es, err)
	}
	if err := c.Link(ctx, ro, "x", file, false); !errors.Is(err, mutable.ErrReadOnly) {
		t.Fatalf("link through a read cap: %v", err)
	}
	if err := c.Unlink(ctx, sub, "héllo.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ctx, root, "sub/héllo.txt"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after unlink: %v", err)
	}
	for _, bad := range []string{"", "a/b", "x\x00"} {
		if err := c.Link(ctx, root, bad, file, false); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// TestUnknownChildCapsArePreserved: a cap of a kind we do not know is
// linked, listed and re-packed verbatim (forward compatibility).
func TestUnknownChildCapsArePreserved(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 4, nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20})
	dir, err := c.Mkdir(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	future, _ := caps.Parse("URI:FUTURE-CAP:abc:def:123")
	if err := c.Link(ctx, dir, "from-the-future", future, false); err != nil {
		t.Fatal(err)
	}
	// Another change to the directory keeps the unknown child as it was.
	if err := c.Link(ctx, dir, "plain", caps.NewLIT([]byte("x")), false); err != nil {
		t.Fatal(err)
	}
	es, err := c.ReadDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		if e.Name == "from-the-future" {
			found = e.Cap() == "URI:FUTURE-CAP:abc:def:123"
		}
	}
	if !found {
		t.Fatalf("unknown cap not preserved: %+v", es)
	}
}

func TestImmutableDirectories(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 4, nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20})
	file := caps.NewLIT([]byte("small"))
	big, err := c.Upload(ctx, bytes.NewReader(testData(5000)), 5000, nil)
	if err != nil {
		t.Fatal(err)
	}
	tiny, err := c.MkdirImmutable(ctx, nil)
	if err != nil || tiny.Kind != caps.KindDIR2LIT {
		t.Fatalf("empty immutable directory: %v %v", tiny, err)
	}
	var es []dirnode.Entry
	for i := 0; i < 20; i++ {
		es = append(es, EntryFor("f"+strconv.Itoa(i), file))
	}
	es = append(es, EntryFor("big", big.Cap), EntryFor("empty", tiny))
	d, err := c.MkdirImmutable(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != caps.KindDIR2CHK || d.IsMutable() {
		t.Fatalf("kind %s", d.Kind)
	}
	got, err := c.Resolve(ctx, d, "big")
	if err != nil || got.String() != big.Cap.String() {
		t.Fatalf("resolve: %v %v", got, err)
	}
	if err := c.Link(ctx, d, "x", file, false); err == nil {
		t.Fatal("linked into an immutable directory")
	}
	mut, _ := c.Mkdir(ctx, false)
	if _, err := c.MkdirImmutable(ctx, []dirnode.Entry{EntryFor("m", mut.ReadOnly())}); err == nil {
		t.Fatal("mutable child accepted in an immutable directory")
	}
}

func TestUpdateMetadata(t *testing.T) {
	now := time.Unix(1700000000, 500_000_000)
	const T = "1700000000.5"
	cases := []struct{ name, old, want string }{
		{"Tahoe's link times: linkcrtime kept, linkmotime now",
			`{"tahoe": {"linkcrtime": 100.25, "linkmotime": 100.25}}`,
			`{"tahoe": {"linkcrtime": 100.25, "linkmotime": ` + T + `}}`},
		{"other keys kept in their order",
			`{"mtime": 5, "ctime": 4, "tahoe": {"linkcrtime": 1, "linkmotime": 2}, "no-write": true}`,
			`{"mtime": 5, "ctime": 4, "tahoe": {"linkcrtime": 1, "linkmotime": ` + T + `}, "no-write": true}`},
		{"old-style ctime becomes linkcrtime",
			`{"ctime":7,"mtime":8}`,
			`{"ctime": 7, "mtime": 8, "tahoe": {"linkcrtime": 7, "linkmotime": ` + T + `}}`},
		{"extra tahoe keys kept",
			`{"tahoe": {"x": [1, 2], "linkcrtime": 3}}`,
			`{"tahoe": {"x": [1, 2], "linkcrtime": 3, "linkmotime": ` + T + `}}`},
		{"no times at all", `{}`,
			`{"tahoe": {"linkcrtime": ` + T + `, "linkmotime": ` + T + `}}`},
		{"not an object", `[1]`,
			`{"tahoe": {"linkcrtime": ` + T + `, "linkmotime": ` + T + `}}`},
		{"tahoe not an object", `{"tahoe": 3, "a": "b"}`,
			`{"tahoe": {"linkcrtime": ` + T + `, "linkmotime": ` + T + `}, "a": "b"}`},
		{"empty", ``,
			`{"tahoe": {"linkcrtime": ` + T + `, "linkmotime": ` + T + `}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(updateMetadata(json.RawMessage(tc.old), now))
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

// TestLinkReplaceUpdatesLinkTimes: replacing a link keeps its creation
// time and moves its modification time.
func TestLinkReplaceUpdatesLinkTimes(t *testing.T) {
	ctx := context.Background()
	c := localClient(t, 5, nodedir.Encoding{Needed: 3, Happy: 4, Total: 5, MaxSegmentSize: 1 << 20})
	old := dirnode.Entry{Name: "f", ROCap: caps.NewLIT([]byte("one")).String(), Metadata: json.RawMessage(`{"tahoe": {"linkcrtime": 1000.5, "linkmotime": 1000.5}, "mtime": 9}`)}
	dir, err := c.MkdirWith(ctx, []dirnode.Entry{old}, false)
	if err != nil {
		t.Fatal(err)
	}
	before := float64(time.Now().Unix())
	if err := c.Link(ctx, dir, "f", caps.NewLIT([]byte("two")), true); err != nil {
		t.Fatal(err)
	}
	es, err := c.ReadDir(ctx, dir)
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %v", es, err)
	}
	var md struct {
		Tahoe struct{ Linkcrtime, Linkmotime float64 }
		Mtime float64
	}
	if err := json.Unmarshal(es[0].Metadata, &md); err != nil {
		t.Fatal(err)
	}
	if md.Tahoe.Linkcrtime != 1000.5 || md.Tahoe.Linkmotime < before || md.Mtime != 9 {
		t.Fatalf("metadata after replace: %s", es[0].Metadata)
	}
	if es[0].ROCap != caps.NewLIT([]byte("two")).String() {
		t.Fatalf("cap not replaced: %s", es[0].ROCap)
	}
}

// refusingServer wraps a real server: every mutable write loses its test,
// as if another writer always got there first, and the first such write
// cancels the operation's context.
type refusingServer struct {
	storage.Server
	cancel context.CancelFunc
}

func (r *refusingServer) ReadTestWrite(ctx context.Context, si storage.StorageIndex, s storage.MutableSecrets, req storage.ReadTestWriteRequest) (storage.ReadTestWriteResult, error) {
	if r.cancel != nil {
		r.cancel()
	}
	return storage.ReadTestWriteResult{Success: false}, nil
}

// TestModifyDirRetryHonoursContext: a directory update that keeps losing
// the race waits between attempts, and that wait ends with the context.
func TestModifyDirRetryHonoursContext(t *testing.T) {
	c := localClient(t, 5, nodedir.Encoding{Needed: 3, Happy: 4, Total: 5, MaxSegmentSize: 1 << 20})
	dir, err := c.Mkdir(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range c.Servers {
		c.Servers[i].Storage = &refusingServer{Server: c.Servers[i].Storage, cancel: cancel}
	}
	err = c.Link(ctx, dir, "f", caps.NewLIT([]byte("x")), false)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "retrying a directory update") {
		t.Fatalf("got %v; want the retry wait to end with the context", err)
	}
	// Without cancellation the retries run out and say why.
	for i := range c.Servers {
		c.Servers[i].Storage.(*refusingServer).cancel = nil
	}
	if err := c.Link(context.Background(), dir, "f", caps.NewLIT([]byte("x")), false); !errors.Is(err, mutable.ErrUncoordinated) {
		t.Fatalf("got %v, want ErrUncoordinated after the retries", err)
	}
}
