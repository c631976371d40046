// Package backupdb is Tahoe-LAFS's backup database, private/backupdb.sqlite
// in a node directory: the SQLite file `tahoe backup` keeps so that a second
// run skips files that have not changed since they were uploaded and reuses
// immutable directories whose contents it has made before. The schema
// (version 2: tables version, local_files, caps, last_upload, directories)
// and the rules are Tahoe's (scripts/backupdb.py), so Tahoe's tahoe and ours
// can share one database. It does not upload or check anything itself.
package backupdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"time"

	"github.com/lafs/lafs/pkg/caps"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Version is the schema version this package writes.
const Version = 2

const schemaV1 = `
CREATE TABLE version
(
 version INTEGER
);
CREATE TABLE local_files
(
 path  VARCHAR(1024) PRIMARY KEY,
 size  INTEGER,
 mtime NUMBER,
 ctime NUMBER,
 fileid INTEGER
);
CREATE TABLE caps
(
 fileid INTEGER PRIMARY KEY AUTOINCREMENT,
 filecap VARCHAR(256) UNIQUE
);
CREATE TABLE last_upload
(
 fileid INTEGER PRIMARY KEY,
 last_uploaded TIMESTAMP,
 last_checked TIMESTAMP
);
`

const tableDirectories = `
CREATE TABLE directories
(
 dirhash varchar(256) PRIMARY KEY,
 dircap varchar(256),
 last_uploaded TIMESTAMP,
 last_checked TIMESTAMP
);
`

// Tahoe's check schedule: an entry younger than a month is trusted, one
// older than two months is always checked, and in between the chance of a
// check grows linearly.
const (
	noCheckBefore    = 30 * 24 * time.Hour
	alwaysCheckAfter = 60 * 24 * time.Hour
)

// dirhashTag is the tag of the hash that names a directory's contents.
const dirhashTag = "allmydata_backupdb_dirhash_v1"

// DB is an open backup database.
type DB struct {
	db *sql.DB
	// Now and Random are the clock and the source of check decisions
	// (time.Now and math/rand when nil).
	Now    func() time.Time
	Random func() float64
}

// Open opens the database at path, creating it (schema version 2) when it
// does not exist and upgrading a version-1 database. The parent directory
// must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	_, statErr := os.Stat(path)
	create := errors.Is(statErr, os.ErrNotExist)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("opening backupdb %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	d := &DB{db: db}
	if err := d.init(ctx, create); err != nil {
		db.Close()
		return nil, fmt.Errorf("backupdb %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) init(ctx context.Context, create bool) error {
	if create {
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, schemaV1+tableDirectories); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO version (version) VALUES (?)", Version); err != nil {
			return err
		}
		return tx.Commit()
	}
	var v int
	if err := d.db.QueryRowContext(ctx, "SELECT version FROM version").Scan(&v); err != nil {
		return fmt.Errorf("not a backupdb (reading its version: %w)", err)
	}
	switch v {
	case Version:
		return nil
	case 1:
		_, err := d.db.ExecContext(ctx, tableDirectories+"UPDATE version SET version=2;")
		if err != nil {
			return fmt.Errorf("upgrading from version 1: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unable to handle backupdb version %d", v)
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) now() float64 {
	if d.Now != nil {
		return float64(d.Now().UnixNano()) / 1e9
	}
	return float64(time.Now().UnixNano()) / 1e9
}

func (d *DB) shouldCheck(lastChecked float64) bool {
	age := d.now() - lastChecked
	p := (age - noCheckBefore.Seconds()) / (alwaysCheckAfter - noCheckBefore).Seconds()
	p = min(max(p, 0), 1)
	r := rand.Float64
	if d.Random != nil {
		r = d.Random
	}
	return r() < p
}

// FileStat is what the database compares of a local file (whole seconds,
// as Tahoe stores them).
type FileStat struct {
	Size, Mtime, Ctime int64
}

// FileResult says whether a local file needs uploading.
type FileResult struct {
	// Path is the file's absolute name, the database's key.
	Path string
	Stat FileStat
	// Cap is the cap the file was uploaded as, "" when it must be
	// uploaded (new or changed).
	Cap string
	// ShouldCheck: the upload is old enough that the file should be
	// checked (or uploaded again) before Cap is trusted.
	ShouldCheck bool
}

// CheckFile looks up an absolute local path: unchanged (same size, mtime
// and ctime, unless !useTimestamps) since its upload gives its cap. A
// changed file's record is dropped.
func (d *DB) CheckFile(ctx context.Context, path string, st FileStat, useTimestamps bool) (FileResult, error) {
	r := FileResult{Path: path, Stat: st}
	var last FileStat
	var fileid int64
	err := d.db.QueryRowContext(ctx, "SELECT size,mtime,ctime,fileid FROM local_files WHERE path=?", path).
		Scan(&last.Size, &last.Mtime, &last.Ctime, &fileid)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("backupdb: looking up %s: %w", path, err)
	}
	var filecap string
	var lastChecked float64
	err = d.db.QueryRowContext(ctx, "SELECT caps.filecap, last_upload.last_checked FROM caps,last_upload WHERE caps.fileid=? AND last_upload.fileid=?",
		fileid, fileid).Scan(&filecap, &lastChecked)
	forgotten := errors.Is(err, sql.ErrNoRows)
	if err != nil && !forgotten {
		return r, fmt.Errorf("backupdb: looking up %s: %w", path, err)
	}
	if last != st || !useTimestamps || forgotten {
		if _, err := d.db.ExecContext(ctx, "DELETE FROM local_files WHERE path=?", path); err != nil {
			return r, fmt.Errorf("backupdb: %w", err)
		}
		return r, nil
	}
	r.Cap = filecap
	r.ShouldCheck = d.shouldCheck(lastChecked)
	return r, nil
}

// DidUploadFile records that r's file was uploaded (or checked and found
// healthy) as filecap.
func (d *DB) DidUploadFile(ctx context.Context, r FileResult, filecap string) error {
	now := d.now()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO caps (filecap) VALUES (?)", filecap); err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	var fileid int64
	if err := tx.QueryRowContext(ctx, "SELECT fileid FROM caps WHERE filecap=?", filecap).Scan(&fileid); err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO last_upload VALUES (?,?,?) ON CONFLICT(fileid) DO UPDATE SET last_uploaded=excluded.last_uploaded, last_checked=excluded.last_checked",
		fileid, now, now); err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO local_files VALUES (?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, ctime=excluded.ctime, fileid=excluded.fileid",
		r.Path, r.Stat.Size, r.Stat.Mtime, r.Stat.Ctime, fileid); err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	return tx.Commit()
}

// DirResult says whether a directory with given contents must be made.
type DirResult struct {
	// Dirhash names the contents (Tahoe's base32 of the tagged hash).
	Dirhash string
	// Cap is the immutable directory made earlier with these contents, ""
	// when none is known.
	Cap         string
	ShouldCheck bool
}

// Dirhash is the name of a directory's contents: child names (UTF-8) to
// immutable caps, sorted by name, as netstrings, under Tahoe's tagged
// hash.
func Dirhash(contents map[string]string) string {
	names := make([]string, 0, len(contents))
	for n := range contents {
		names = append(names, n)
	}
	sort.Strings(names)
	var data []byte
	for _, n := range names {
		data = append(data, caps.Netstring([]byte(n))...)
		data = append(data, caps.Netstring([]byte(contents[n]))...)
	}
	return caps.Base32Encode(caps.TaggedHash(dirhashTag, data, 0))
}

// CheckDirectory looks up a directory's contents (child name to cap).
func (d *DB) CheckDirectory(ctx context.Context, contents map[string]string) (DirResult, error) {
	r := DirResult{Dirhash: Dirhash(contents)}
	var lastChecked float64
	err := d.db.QueryRowContext(ctx, "SELECT dircap, last_checked FROM directories WHERE dirhash=?", r.Dirhash).Scan(&r.Cap, &lastChecked)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("backupdb: %w", err)
	}
	r.ShouldCheck = d.shouldCheck(lastChecked)
	return r, nil
}

// DidCreateDirectory records that the contents r names were made into
// the immutable directory dircap.
func (d *DB) DidCreateDirectory(ctx context.Context, r DirResult, dircap string) error {
	now := d.now()
	_, err := d.db.ExecContext(ctx, "REPLACE INTO directories VALUES (?,?,?,?)", r.Dirhash, dircap, now, now)
	if err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	return nil
}

// DidCheckFile records that r's file, due a check, was checked on the
// grid and found healthy: its cap is trusted for another while.
func (d *DB) DidCheckFile(ctx context.Context, r FileResult) error {
	_, err := d.db.ExecContext(ctx, "UPDATE last_upload SET last_checked=? WHERE fileid=(SELECT fileid FROM caps WHERE filecap=?)", d.now(), r.Cap)
	if err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	return nil
}

// DidCheckDirectory records that the directory r names, due a check, was
// checked on the grid and found healthy.
func (d *DB) DidCheckDirectory(ctx context.Context, r DirResult) error {
	_, err := d.db.ExecContext(ctx, "UPDATE directories SET last_checked=? WHERE dircap=?", d.now(), r.Cap)
	if err != nil {
		return fmt.Errorf("backupdb: %w", err)
	}
	return nil
}
