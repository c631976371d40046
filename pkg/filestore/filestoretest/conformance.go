// Package filestoretest is the behaviour every filestore.Store must show,
// written once as StoreConformance so that each implementation (the
// direct grid client, a gateway to a real Tahoe-LAFS node, a gateway to
// our own web API server) is held to the same contract by the same test.
//
// It owns no store of its own: a test of an implementation opens one over
// a real grid and hands it in.
package filestoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// StoreConformance exercises every method of s against the contract of
// filestore.Store, with fresh random contents (so it can run against a
// long-lived grid repeatedly). It uses s from one goroutine at a time
// except where it checks concurrent use. The store is not closed.
func StoreConformance(t *testing.T, s filestore.Store) {
	t.Helper()
	RunConformance(t, s, Options{})
}

// Options tune RunConformance.
type Options struct {
	// Known maps the path of a check below the conformance test ("Cancelled/mkdir",
	// "LinkUnlinkResolve/Resolve through a file") to the reason the store
	// is known not to pass it yet: the check is skipped with that reason,
	// so the divergence shows in every verbose run until it is fixed.
	Known map[string]string
}

// RunConformance is StoreConformance with options.
func RunConformance(t *testing.T, s filestore.Store, o Options) {
	t.Helper()
	c := &conformance{s: s, known: o.Known}
	c.run(t, "UploadDownload", c.uploadDownload)
	c.run(t, "Mutable", c.mutable)
	c.run(t, "Directories", c.directories)
	c.run(t, "LinkUnlinkResolve", c.linkUnlinkResolve)
	c.run(t, "ImmutableDirectory", c.immutableDirectory)
	c.run(t, "PathHelpers", c.pathHelpers)
	c.run(t, "GridStatus", c.gridStatus)
	c.run(t, "Cancelled", c.cancelled)
	c.run(t, "Concurrent", c.concurrent)
}

type conformance struct {
	s     filestore.Store
	known map[string]string
}

// run is t.Run that skips a check listed in Options.Known.
func (c *conformance) run(t *testing.T, name string, fn func(*testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		for path, reason := range c.known {
			if strings.HasSuffix(t.Name(), "/"+strings.ReplaceAll(path, " ", "_")) {
				t.Skipf("known divergence: %s", reason)
			}
		}
		fn(t)
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *conformance) upload(t *testing.T, data []byte) *caps.Cap {
	t.Helper()
	res, err := c.s.Upload(ctxFor(t), bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
	if err != nil {
		t.Fatalf("upload of %d bytes: %v", len(data), err)
	}
	return res.Cap
}

func (c *conformance) download(t *testing.T, cp *caps.Cap) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.s.Download(ctxFor(t), cp, &buf, filestore.DownloadOptions{}); err != nil {
		t.Fatalf("download of a %s cap: %v", cp.Kind, err)
	}
	return buf.Bytes()
}

func (c *conformance) mkdir(t *testing.T, o filestore.MkdirOptions) *caps.Cap {
	t.Helper()
	d, err := c.s.Mkdir(ctxFor(t), o)
	if err != nil {
		t.Fatalf("mkdir %+v: %v", o.Format, err)
	}
	return d
}

func (c *conformance) uploadDownload(t *testing.T) {
	ctx := ctxFor(t)
	for _, tc := range []struct {
		name string
		size int
		kind caps.Kind
	}{
		{"empty", 0, caps.KindLIT},
		{"literal", 40, caps.KindLIT},
		{"one segment", 5000, caps.KindCHK},
		{"several segments", 1<<20 + 12345, caps.KindCHK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := random(t, tc.size)
			var mu sync.Mutex
			var seen []int64
			res, err := c.s.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{Progress: func(n int64) {
				mu.Lock()
				seen = append(seen, n)
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Cap.Kind != tc.kind {
				t.Fatalf("cap kind %s, want %s", res.Cap.Kind, tc.kind)
			}
			if size, ok := res.Cap.SizeKnown(); !ok || size != uint64(tc.size) {
				t.Errorf("cap says %d bytes (%v), want %d", size, ok, tc.size)
			}
			for i, n := range seen {
				if n < 0 || n > int64(tc.size) || (i > 0 && n < seen[i-1]) {
					t.Fatalf("progress %v is not a rising count up to %d", seen, tc.size)
				}
			}
			if tc.size > 0 && (len(seen) == 0 || seen[len(seen)-1] != int64(tc.size)) {
				t.Errorf("progress ends at %v, want %d", seen, tc.size)
			}
			if got := c.download(t, res.Cap); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(got), len(data))
			}
			// The same bytes again: the same cap (convergent encryption),
			// and the grid already has them.
			again, err := c.s.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Cap.String() != res.Cap.String() {
				t.Errorf("second upload made a different cap")
			}
			if tc.kind == caps.KindCHK && again.Created {
				t.Errorf("second upload of the same bytes says Created")
			}
		})
	}
	t.Run("a file the grid does not hold", func(t *testing.T) {
		// A well-formed cap no server holds shares of.
		missing, err := caps.NewCHK(random(t, 16), random(t, 32), 2, 4, 100000)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := c.s.Download(ctx, missing, &buf, filestore.DownloadOptions{}); err == nil {
			t.Fatal("download of a file nobody holds succeeded")
		} else if strings.Contains(err.Error(), missing.String()) {
			t.Errorf("the error quotes the cap: %v", err)
		}
	})
	t.Run("a directory is not a file", func(t *testing.T) {
		d := c.mkdir(t, filestore.MkdirOptions{})
		if err := c.s.Download(ctx, d, io.Discard, filestore.DownloadOptions{}); err == nil {
			t.Fatal("download of a directory cap succeeded")
		}
	})
}

func (c *conformance) mutable(t *testing.T) {
	ctx := ctxFor(t)
	for _, tc := range []struct {
		format filestore.Format
		kind   caps.Kind
	}{
		{filestore.FormatDefault, caps.KindSSK},
		{filestore.FormatSDMF, caps.KindSSK},
		{filestore.FormatMDMF, caps.KindMDMF},
	} {
		t.Run(tc.kind.Prefix()+tc.format.String(), func(t *testing.T) {
			v1 := random(t, 3000)
			w, err := c.s.CreateMutable(ctx, v1, filestore.MutableOptions{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if w.Kind != tc.kind {
				t.Fatalf("cap kind %s, want %s", w.Kind, tc.kind)
			}
			if got := c.download(t, w); !bytes.Equal(got, v1) {
				t.Fatal("first version differs")
			}
			v2 := random(t, 200000)
			if err := c.s.OverwriteMutable(ctx, w, v2); err != nil {
				t.Fatal(err)
			}
			if got := c.download(t, w); !bytes.Equal(got, v2) {
				t.Fatal("second version differs (through the write cap)")
			}
			if got := c.download(t, w.ReadOnly()); !bytes.Equal(got, v2) {
				t.Fatal("second version differs (through the read cap)")
			}
			if err := c.s.OverwriteMutable(ctx, w.ReadOnly(), []byte("no")); !errors.Is(err, filestore.ErrReadOnly) {
				t.Errorf("overwrite through a read cap: %v, want ErrReadOnly", err)
			}
			if got := c.download(t, w); !bytes.Equal(got, v2) {
				t.Fatal("a refused overwrite changed the file")
			}
		})
	}
	t.Run("with a key", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		want, err := caps.NewMutableWriteCap(key, false)
		if err != nil {
			t.Fatal(err)
		}
		data := random(t, 100)
		got, err := c.s.CreateMutable(ctx, data, filestore.MutableOptions{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("the cap is not the one the key makes")
		}
		if b := c.download(t, got); !bytes.Equal(b, data) {
			t.Fatal("contents differ")
		}
	})
	t.Run("an immutable file is not mutable", func(t *testing.T) {
		f := c.upload(t, random(t, 1000))
		if err := c.s.OverwriteMutable(ctx, f, []byte("x")); err == nil {
			t.Fatal("overwrite of a CHK file succeeded")
		}
	})
	t.Run("CHK is not a mutable format", func(t *testing.T) {
		if _, err := c.s.CreateMutable(ctx, []byte("x"), filestore.MutableOptions{Format: filestore.FormatCHK}); err == nil {
			t.Fatal("CreateMutable with FormatCHK succeeded")
		}
	})
}

// linkTimes reads tahoe.linkcrtime and linkmotime from link metadata.
func linkTimes(t *testing.T, md json.RawMessage) (cr, mo float64) {
	t.Helper()
	var m struct {
		Tahoe struct {
			LinkCrTime float64 `json:"linkcrtime"`
			LinkMoTime float64 `json:"linkmotime"`
		} `json:"tahoe"`
	}
	if err := json.Unmarshal(md, &m); err != nil {
		t.Fatalf("metadata %s: %v", md, err)
	}
	return m.Tahoe.LinkCrTime, m.Tahoe.LinkMoTime
}

func entryNamed(es []dirnode.Entry, name string) (dirnode.Entry, bool) {
	for _, e := range es {
		if e.Name == name {
			return e, true
		}
	}
	return dirnode.Entry{}, false
}

func (c *conformance) directories(t *testing.T) {
	ctx := ctxFor(t)
	t.Run("empty", func(t *testing.T) {
		for _, tc := range []struct {
			format filestore.Format
			kind   caps.Kind
		}{
			{filestore.FormatSDMF, caps.KindDIR2},
			{filestore.FormatMDMF, caps.KindDIR2MDMF},
		} {
			d := c.mkdir(t, filestore.MkdirOptions{Format: tc.format})
			if d.Kind != tc.kind {
				t.Errorf("%s directory: cap kind %s, want %s", tc.format, d.Kind, tc.kind)
			}
			es, err := c.s.ReadDir(ctx, d)
			if err != nil || len(es) != 0 {
				t.Errorf("%s directory: ReadDir = %v, %v; want empty", tc.format, es, err)
			}
		}
		if d := c.mkdir(t, filestore.MkdirOptions{}); !d.IsDirectory() || !d.IsMutable() || d.IsReadOnly() {
			t.Errorf("default directory: a %s cap, want a mutable directory write cap", d.Kind)
		}
	})
	for _, tc := range []struct {
		format filestore.Format
		kind   caps.Kind
	}{
		{filestore.FormatSDMF, caps.KindDIR2},
		{filestore.FormatMDMF, caps.KindDIR2MDMF},
	} {
		t.Run("with children "+tc.format.String(), func(t *testing.T) { c.withChildren(t, tc.format, tc.kind) })
	}
	t.Run("a file is not a directory", func(t *testing.T) {

		f := c.upload(t, random(t, 100))
		if _, err := c.s.ReadDir(ctx, f); err == nil {
			t.Fatal("ReadDir of a file succeeded")
		}
	})
	t.Run("bad children", func(t *testing.T) {
		lit := caps.NewLIT([]byte("x")).String()
		for name, children := range map[string][]dirnode.Entry{
			"a duplicate name": {{Name: "a", ROCap: lit}, {Name: "a", ROCap: lit}},
			"a slash":          {{Name: "a/b", ROCap: lit}},
			"an empty name":    {{Name: "", ROCap: lit}},
		} {
			if _, err := c.s.Mkdir(ctx, filestore.MkdirOptions{Children: children}); err == nil {
				t.Errorf("mkdir with %s succeeded", name)
			}
		}
	})
}

func (c *conformance) withChildren(t *testing.T, format filestore.Format, kind caps.Kind) {
	ctx := ctxFor(t)
	file := c.upload(t, random(t, 2000))
	sub := c.mkdir(t, filestore.MkdirOptions{})
	lit := caps.NewLIT([]byte("small"))
	md := json.RawMessage(`{"mtime":1202777696.7564139,"ctime":1202777696.7564139,"note":"kept"}`)
	d := c.mkdir(t, filestore.MkdirOptions{Format: format, Children: []dirnode.Entry{
		{Name: "file", ROCap: file.String(), Metadata: md},
		{Name: "sub", RWCap: sub.String(), ROCap: sub.ReadOnly().String()},
		{Name: "lit", ROCap: lit.String()},
	}})
	if d.Kind != kind {
		t.Errorf("cap kind %s, want %s", d.Kind, kind)
	}
	es, err := c.s.ReadDir(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d children, want 3", len(es))
	}
	f, ok := entryNamed(es, "file")
	if !ok || f.ROCap != file.String() || f.RWCap != "" {
		t.Errorf("file entry %+v", f)
	}
	var got map[string]any
	if err := json.Unmarshal(f.Metadata, &got); err != nil || got["note"] != "kept" || got["mtime"] != 1202777696.7564139 {
		t.Errorf("file metadata %s (%v): want the given keys kept", f.Metadata, err)
	}
	s, ok := entryNamed(es, "sub")
	if !ok || s.RWCap != sub.String() || s.ROCap != sub.ReadOnly().String() {
		t.Errorf("sub entry %+v", s)
	}
	if cr, mo := linkTimes(t, s.Metadata); cr <= 0 || mo <= 0 {
		t.Errorf("sub metadata %s: want tahoe link times", s.Metadata)
	}
	if l, ok := entryNamed(es, "lit"); !ok || l.ROCap != lit.String() {
		t.Errorf("lit entry %+v", l)
	}
	// Through the read cap: no write caps.
	ro, err := c.s.ReadDir(ctx, d.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := entryNamed(ro, "sub"); s.RWCap != "" || s.ROCap != sub.ReadOnly().String() {
		t.Errorf("sub through a read cap: %+v", s)
	}
}

func (c *conformance) linkUnlinkResolve(t *testing.T) {
	ctx := ctxFor(t)
	root := c.mkdir(t, filestore.MkdirOptions{})
	sub := c.mkdir(t, filestore.MkdirOptions{})
	file := c.upload(t, random(t, 3000))
	other := c.upload(t, random(t, 3000))
	mut, err := c.s.CreateMutable(ctx, []byte("mutable"), filestore.MutableOptions{})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.s.Link(ctx, root, "sub", sub, false); err != nil {
		t.Fatal(err)
	}
	if err := c.s.Link(ctx, sub, "file", file, false); err != nil {
		t.Fatal(err)
	}
	if err := c.s.Link(ctx, root, "mut", mut, false); err != nil {
		t.Fatal(err)
	}
	// Names are NFC: linking "é" as e + combining acute finds it as é.
	if err := c.s.Link(ctx, root, "re\u0301sume\u0301", other, false); err != nil {
		t.Fatal(err)
	}

	t.Run("exists", func(t *testing.T) {
		if err := c.s.Link(ctx, sub, "file", other, false); !errors.Is(err, filestore.ErrExists) {
			t.Fatalf("second link without replace: %v, want ErrExists", err)
		}
		if got, _ := c.s.Resolve(ctx, root, "sub/file"); got == nil || got.String() != file.String() {
			t.Fatal("a refused link changed the child")
		}
	})
	c.run(t, "replace keeps the creation time", func(t *testing.T) {
		if err := c.s.Link(ctx, sub, "swap", file, false); err != nil {
			t.Fatal(err)
		}
		es, err := c.s.ReadDir(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := entryNamed(es, "swap")
		cr0, _ := linkTimes(t, before.Metadata)
		time.Sleep(20 * time.Millisecond)
		if err := c.s.Link(ctx, sub, "swap", other, true); err != nil {
			t.Fatal(err)
		}
		es, err = c.s.ReadDir(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := entryNamed(es, "swap")
		if after.ROCap != other.String() {
			t.Fatalf("after replace the child is %s", after.ROCap)
		}
		cr1, mo1 := linkTimes(t, after.Metadata)
		if cr1 != cr0 || mo1 <= cr0 {
			t.Errorf("replace: linkcrtime %v→%v, linkmotime %v; want the creation time kept and a later modification time", cr0, cr1, mo1)
		}
	})
	t.Run("ReadDir", func(t *testing.T) {
		es, err := c.s.ReadDir(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 3 {
			t.Fatalf("%d children, want 3: %v", len(es), es)
		}
		s, ok := entryNamed(es, "sub")
		if !ok || s.RWCap != sub.String() || s.ROCap != sub.ReadOnly().String() {
			t.Errorf("sub: %+v", s)
		}
		m, ok := entryNamed(es, "mut")
		if !ok || m.RWCap != mut.String() || m.ROCap != mut.ReadOnly().String() {
			t.Errorf("mut: %+v", m)
		}
		if _, ok := entryNamed(es, "r\u00e9sum\u00e9"); !ok {
			t.Errorf("no NFC name among %v", es)
		}
	})
	t.Run("Resolve", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			want *caps.Cap
		}{
			{"", root},
			{"sub", sub},
			{"sub/", sub},
			{"/sub//file", file},
			{"mut", mut},
			{"r\u00e9sum\u00e9", other},
			{"re\u0301sume\u0301", other},
		} {
			got, err := c.s.Resolve(ctx, root, tc.path)
			if err != nil || got.String() != tc.want.String() {
				t.Errorf("Resolve(%q) = %v, %v; want a %s", tc.path, got, err, tc.want.Kind)
			}
		}
		got, err := c.s.Resolve(ctx, root.ReadOnly(), "sub")
		if err != nil || got.String() != sub.ReadOnly().String() {
			t.Errorf("Resolve through a read cap = %v, %v; want the read cap", got, err)
		}
		for _, path := range []string{"nope", "sub/nope", "nope/deeper"} {
			if _, err := c.s.Resolve(ctx, root, path); !errors.Is(err, filestore.ErrNotFound) {
				t.Errorf("Resolve(%q): %v, want ErrNotFound", path, err)
			}
		}
	})
	c.run(t, "Resolve through a file", func(t *testing.T) {
		if _, err := c.s.Resolve(ctx, root, "sub/file/more"); !errors.Is(err, filestore.ErrNotDirectory) {
			t.Errorf("Resolve(sub/file/more): %v, want ErrNotDirectory", err)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		if err := c.s.Link(ctx, root.ReadOnly(), "x", file, false); !errors.Is(err, filestore.ErrReadOnly) {
			t.Errorf("link through a read cap: %v, want ErrReadOnly", err)
		}
		if err := c.s.Unlink(ctx, root.ReadOnly(), "sub"); !errors.Is(err, filestore.ErrReadOnly) {
			t.Errorf("unlink through a read cap: %v, want ErrReadOnly", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		for _, name := range []string{"", "a/b"} {
			if err := c.s.Link(ctx, root, name, file, false); err == nil {
				t.Errorf("link as %q succeeded", name)
			}
		}
	})
	t.Run("Unlink", func(t *testing.T) {
		if err := c.s.Unlink(ctx, root, "mut"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.s.Resolve(ctx, root, "mut"); !errors.Is(err, filestore.ErrNotFound) {
			t.Errorf("after unlink: %v, want ErrNotFound", err)
		}
		if err := c.s.Unlink(ctx, root, "mut"); !errors.Is(err, filestore.ErrNotFound) {
			t.Errorf("second unlink: %v, want ErrNotFound", err)
		}
		if err := c.s.Unlink(ctx, root, "re\u0301sume\u0301"); err != nil {
			t.Errorf("unlink by an NFD name: %v", err)
		}
		// Unlinking a name leaves the object itself readable.
		if got := c.download(t, mut); !bytes.Equal(got, []byte("mutable")) {
			t.Error("the unlinked file changed")
		}
	})
}

func (c *conformance) immutableDirectory(t *testing.T) {
	ctx := ctxFor(t)
	file := c.upload(t, random(t, 2000))
	lit := caps.NewLIT([]byte("tiny"))
	inner := c.mkdir(t, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{{Name: "lit", ROCap: lit.String()}}})
	if inner.Kind != caps.KindDIR2CHK && inner.Kind != caps.KindDIR2LIT {
		t.Fatalf("immutable directory: a %s cap", inner.Kind)
	}
	d := c.mkdir(t, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{
		{Name: "file", ROCap: file.String()},
		{Name: "inner", ROCap: inner.String()},
	}})
	if d.Kind != caps.KindDIR2CHK && d.Kind != caps.KindDIR2LIT {
		t.Fatalf("immutable directory: a %s cap", d.Kind)
	}
	es, err := c.s.ReadDir(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := entryNamed(es, "file"); !ok || f.ROCap != file.String() || f.RWCap != "" {
		t.Errorf("file: %+v", f)
	}
	got, err := c.s.Resolve(ctx, d, "inner/lit")
	if err != nil || got.String() != lit.String() {
		t.Errorf("Resolve(inner/lit) = %v, %v", got, err)
	}
	if err := c.s.Link(ctx, d, "more", file, false); !errors.Is(err, filestore.ErrReadOnly) {
		t.Errorf("link into an immutable directory: %v, want ErrReadOnly", err)
	}
	mut, err := c.s.CreateMutable(ctx, []byte("m"), filestore.MutableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]dirnode.Entry{
		"a mutable read cap": {Name: "m", ROCap: mut.ReadOnly().String()},
		"a write cap":        {Name: "m", RWCap: mut.String(), ROCap: mut.ReadOnly().String()},
	} {
		if _, err := c.s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: []dirnode.Entry{e}}); err == nil {
			t.Errorf("an immutable directory holding %s was made", name)
		}
	}
}

func (c *conformance) pathHelpers(t *testing.T) {
	ctx := ctxFor(t)
	root := c.mkdir(t, filestore.MkdirOptions{})
	at := func(rel string) filestore.Path { return filestore.Path{Root: root, Rel: rel} }
	made, err := filestore.MkdirAll(ctx, c.s, at("a/b/c"), filestore.FormatSDMF)
	if err != nil {
		t.Fatal(err)
	}
	again, err := filestore.MkdirAll(ctx, c.s, at("a/b/c"), filestore.FormatSDMF)
	if err != nil || again.String() != made.String() {
		t.Fatalf("second MkdirAll: %v, %v; want the same directory", again, err)
	}
	f := c.upload(t, random(t, 500))
	if err := c.s.Link(ctx, made, "f", f, false); err != nil {
		t.Fatal(err)
	}
	to, err := filestore.Move(ctx, c.s, at("a/b/c/f"), at("a"), filestore.MoveOptions{})
	if err != nil || to.Rel != "a/f" {
		t.Fatalf("Move into a directory: %v, %v", to, err)
	}
	if _, err := filestore.Lookup(ctx, c.s, at("a/b/c/f")); !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("the source is still linked: %v", err)
	}
	if got, err := filestore.Lookup(ctx, c.s, at("a/f")); err != nil || got.String() != f.String() {
		t.Errorf("Lookup(a/f) = %v, %v", got, err)
	}
	if _, err := filestore.Move(ctx, c.s, at("a"), at("a/b/c"), filestore.MoveOptions{}); err == nil {
		t.Error("a directory moved into itself")
	}
}

func (c *conformance) gridStatus(t *testing.T) {
	r, ok := c.s.(filestore.Reporter)
	if !ok {
		t.Skip("the store does not report on its grid")
	}
	gs, err := r.GridStatus(ctxFor(t), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Kind == "" || len(gs.Servers) == 0 {
		t.Fatalf("grid status %+v: want a kind and servers", gs)
	}
	reachable := 0
	for _, srv := range gs.Servers {
		if srv.ID == "" {
			t.Errorf("a server with no id: %+v", srv)
		}
		if srv.Reachable {
			reachable++
			if srv.Error != "" {
				t.Errorf("reachable server %s has an error %q", srv.ID, srv.Error)
			}
		} else if srv.Error == "" {
			t.Errorf("unreachable server %s says not why", srv.ID)
		}
	}
	if reachable == 0 {
		t.Errorf("no server reachable: %+v", gs.Servers)
	}
}

func (c *conformance) cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := c.mkdir(t, filestore.MkdirOptions{})
	data := random(t, 100000)
	for name, call := range map[string]func() error{
		"upload": func() error {
			_, err := c.s.Upload(ctx, bytes.NewReader(data), int64(len(data)), filestore.UploadOptions{})
			return err
		},
		"mkdir":          func() error { _, err := c.s.Mkdir(ctx, filestore.MkdirOptions{}); return err },
		"read directory": func() error { _, err := c.s.ReadDir(ctx, root); return err },
		"link":           func() error { return c.s.Link(ctx, root, "x", caps.NewLIT([]byte("x")), false) },
	} {
		c.run(t, name, func(t *testing.T) {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
			}
		})
	}
}

func (c *conformance) concurrent(t *testing.T) {
	ctx := ctxFor(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	blobs := make([][]byte, n)
	got := make([]*caps.Cap, n)
	for i := range n {
		blobs[i] = random(t, 20000+i)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.s.Upload(ctx, bytes.NewReader(blobs[i]), int64(len(blobs[i])), filestore.UploadOptions{})
			if err == nil {
				got[i] = res.Cap
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent upload %d: %v", i, errs[i])
		}
		if b := c.download(t, got[i]); !bytes.Equal(b, blobs[i]) {
			t.Errorf("concurrent upload %d: contents differ", i)
		}
	}
}
