package backupdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirhash: the name of a directory's contents, checked against an
// independent computation of Tahoe's rule (SHA-256d over netstring(tag)
// and the sorted netstring pairs, base32).
func TestDirhash(t *testing.T) {
	got := Dirhash(map[string]string{"b.txt": "URI:LIT:mjrgc", "a.txt": "URI:LIT:mfqwc", "caf\u00e9": "URI:DIR2-LIT:"})
	if want := "6vf2rhtjbdrz27otrrqgbxjmypqrorcmzlbcpxljjfnhzu3x6yha"; got != want {
		t.Fatalf("Dirhash = %s, want %s", got, want)
	}
}

// TestSchemaIsTahoes: the file holds Tahoe's tables and columns, version 2.
func TestSchemaIsTahoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backupdb.sqlite")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{
		"version":     "version",
		"local_files": "path,size,mtime,ctime,fileid",
		"caps":        "fileid,filecap",
		"last_upload": "fileid,last_uploaded,last_checked",
		"directories": "dirhash,dircap,last_uploaded,last_checked",
	}
	for table, cols := range want {
		rows, err := db.Query("SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			got = append(got, n)
		}
		rows.Close()
		if strings.Join(got, ",") != cols {
			t.Errorf("table %s: columns %v, want %s", table, got, cols)
		}
	}
	var v int
	if err := db.QueryRow("SELECT version FROM version").Scan(&v); err != nil || v != 2 {
		t.Fatalf("version %d, %v", v, err)
	}
}

// TestFileRules: unchanged files are known, changed ones forgotten, and
// the check schedule follows the age of the upload.
func TestFileRules(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	d, err := Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = func() time.Time { return now }
	d.Random = func() float64 { return 0.5 }
	st := FileStat{Size: 10, Mtime: 100, Ctime: 200}
	r, err := d.CheckFile(ctx, "/a", st, true)
	if err != nil || r.Cap != "" {
		t.Fatalf("new file: %+v %v", r, err)
	}
	if err := d.DidUploadFile(ctx, r, "URI:CHK:x"); err != nil {
		t.Fatal(err)
	}
	// A second path with the same cap shares its caps row.
	r2, _ := d.CheckFile(ctx, "/b", st, true)
	if err := d.DidUploadFile(ctx, r2, "URI:CHK:x"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		age       time.Duration
		st        FileStat
		stamps    bool
		cap       string
		wantCheck bool
	}{
		{"fresh", 24 * time.Hour, st, true, "URI:CHK:x", false},
		{"45 days, p=0.5 not below 0.5", 45 * 24 * time.Hour, st, true, "URI:CHK:x", false},
		{"46 days", 46 * 24 * time.Hour, st, true, "URI:CHK:x", true},
		{"ignore timestamps", 0, st, false, "", false},
	} {
		now = time.Unix(1_800_000_000, 0).Add(c.age)
		r, err := d.CheckFile(ctx, "/b", c.st, c.stamps)
		if err != nil || r.Cap != c.cap || r.ShouldCheck != c.wantCheck {
			t.Errorf("%s: %+v %v", c.name, r, err)
		}
	}
	// /b was forgotten by the last case; a changed /a is forgotten too.
	if r, _ := d.CheckFile(ctx, "/b", st, true); r.Cap != "" {
		t.Errorf("/b still known: %+v", r)
	}
	if r, _ := d.CheckFile(ctx, "/a", FileStat{Size: 11, Mtime: 100, Ctime: 200}, true); r.Cap != "" {
		t.Errorf("changed /a known: %+v", r)
	}
	if r, _ := d.CheckFile(ctx, "/a", st, true); r.Cap != "" {
		t.Errorf("/a's record survived its change: %+v", r)
	}
}

func TestDirectoryRules(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	contents := map[string]string{"a": "URI:LIT:mfqwc"}
	r, err := d.CheckDirectory(ctx, contents)
	if err != nil || r.Cap != "" {
		t.Fatalf("new: %+v %v", r, err)
	}
	if err := d.DidCreateDirectory(ctx, r, "URI:DIR2-CHK:x"); err != nil {
		t.Fatal(err)
	}
	if r, _ := d.CheckDirectory(ctx, contents); r.Cap != "URI:DIR2-CHK:x" || r.ShouldCheck {
		t.Fatalf("known: %+v", r)
	}
	if r, _ := d.CheckDirectory(ctx, map[string]string{"a": "URI:LIT:mjrgc"}); r.Cap != "" {
		t.Fatalf("other contents: %+v", r)
	}
	// Reopening keeps the data.
	d.Close()
}
