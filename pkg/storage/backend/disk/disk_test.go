package disk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/disk"
)

func open(t *testing.T) backend.Backend {
	b, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) { backendtest.Run(t, open) }

// The layout is Tahoe's, byte for byte where the share is; uploads in
// progress are flat files in incoming/, and nothing else is left there.
func TestLayout(t *testing.T) {
	dir := t.TempDir()
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	si := backendtest.SI(0xab)
	ctx := context.Background()
	w, err := b.Create(ctx, si, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt([]byte("abc"), 0)
	inc := filepath.Join(dir, "shares", "incoming", si.String()+".7")
	if _, err := os.Stat(inc); err != nil {
		t.Errorf("incoming file: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	final := filepath.Join(dir, "shares", si.String()[:2], si.String(), "7")
	if got, err := os.ReadFile(final); err != nil || string(got) != "abc" {
		t.Errorf("final file = %q, %v", got, err)
	}
	if _, err := os.Stat(inc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incoming file left behind: %v", err)
	}
	if ents, err := os.ReadDir(filepath.Dir(inc)); err != nil || len(ents) != 0 {
		t.Errorf("incoming/ holds %v (%v), want nothing", ents, err)
	}
	if err := b.PutAux(ctx, "corruption-advisories/x", []byte("r")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "corruption-advisories", "x")); err != nil {
		t.Errorf("aux file: %v", err)
	}
}

// A second process sharing the directory does not clear the first's
// uploads; the last one out does at the next open.
func TestIncomingCleanup(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	si := backendtest.SI(1)
	a, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.Create(ctx, si, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	_ = w // left open, as a crashed upload would be
	b, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.IncomingPath(si, 0)); err != nil {
		t.Errorf("second open removed the first's upload: %v", err)
	}
	if _, err := b.Create(ctx, si, 0, -1); !errors.Is(err, backend.ErrExist) {
		t.Errorf("Create of a share another writer holds: %v, want ErrExist", err)
	}
	b.Close()
	a.Close()
	c, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(c.IncomingPath(si, 0)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale upload not cleaned: %v", err)
	}
}
