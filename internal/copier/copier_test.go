package copier

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/localgrid"
	"github.com/lafs/lafs/pkg/nodedir"
)

func grid(t *testing.T) filestore.Store {
	dir := t.TempDir()
	if err := localgrid.Create(dir, 4); err != nil {
		t.Fatal(err)
	}
	ss, err := localgrid.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseServers(ss) })
	return client.NewStore(&client.Client{Servers: ss, Encoding: nodedir.Encoding{Needed: 2, Happy: 3, Total: 4, MaxSegmentSize: 1 << 20}, Convergence: []byte("c"), LeaseSecret: []byte("l")}, client.GridLocal)
}

func TestTreeRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := grid(t)
	root, err := c.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for i := 0; i < 30; i++ {
		d := filepath.Join(src, "tree", "d"+strconv.Itoa(i%3))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "f"+strconv.Itoa(i)), bytes.Repeat([]byte{byte(i)}, 100*i), 0o644)
	}
	var moved int64
	k := &Copier{Client: c, Progress: func(n int64) { moved += n }}
	aliases := map[string]string{"r": root.String()}
	dst, _ := ParseLocation(aliases, "r:")
	if dst.Grid == nil {
		t.Fatal("r: is not a grid location")
	}
	if err := k.Copy(ctx, Location{Local: filepath.Join(src, "tree")}, dst, true); err != nil {
		t.Fatal(err)
	}
	if moved != TreeSize(filepath.Join(src, "tree")) {
		t.Fatalf("progress %d, tree %d", moved, TreeSize(filepath.Join(src, "tree")))
	}
	back := t.TempDir()
	from, _ := ParseLocation(aliases, "r:tree")
	if err := k.Copy(ctx, from, Location{Local: back}, true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		rel := filepath.Join("tree", "d"+strconv.Itoa(i%3), "f"+strconv.Itoa(i))
		a, _ := os.ReadFile(filepath.Join(src, rel))
		b, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs: %v", rel, err)
		}
	}
	// Copying again onto existing local files needs Overwrite.
	if err := k.Copy(ctx, from, Location{Local: back}, true); err == nil {
		t.Fatal("existing files were overwritten without Overwrite")
	}
	// Grid to grid links the same caps; into itself is a cycle.
	if err := k.Copy(ctx, from, Location{Grid: &filestore.Path{Root: root, Rel: "tree/d0"}}, true); !errors.Is(err, ErrCycle) {
		t.Fatalf("cycle: %v", err)
	}
	if err := k.Copy(ctx, from, Location{Grid: &filestore.Path{Root: root, Rel: "copy"}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ctx, root, "copy/d1/f1"); err != nil {
		t.Fatal(err)
	}
	// A directory needs -r.
	if err := k.Copy(ctx, from, Location{Local: t.TempDir()}, false); err == nil {
		t.Fatal("directory copied without recursive")
	}
	// Local paths that only look like aliases stay local.
	if l, _ := ParseLocation(aliases, "nosuch:file"); l.Grid != nil {
		t.Fatal("unknown alias taken as grid")
	}
}
