// Package leaselog keeps a storage server's lease records in its share
// backend, as loose objects beside the shares, with a local SQLite database
// that is only a cache: it can be deleted at any time and is rebuilt from
// the backend ("fetch, populate sqlite, run query, forget"). Losing the
// node's local disk loses no lease. This is option (3) of the 2017 dev-chat
// on leases for a cloud backend.
//
// Layout (auxiliary objects of the backend, so under the S3 prefix, or in
// the storage directory on disk):
//
//	leases/log/<unix nanoseconds, 20 digits>-<writer>      one object per batch of renewals
//	leases/snap/<unix nanoseconds>-<writer>/<part, 6 digits> a compaction snapshot, in parts
//	leases/snap/<unix nanoseconds>-<writer>/done             written last: the log objects it covers
//
// A renewal costs one PUT, shared by every renewal in flight at the same
// moment (group commit), and is acknowledged only once its object is
// stored. Rebuilding costs one LIST of leases/ plus one GET per snapshot
// part and per log object written since the snapshot; Compact folds the log
// into a new snapshot and deletes what it covers, bounding both.
//
// Records are idempotent and commute, so the order objects are applied in
// does not matter: a lease (storage index, renew-secret hash) keeps its
// latest renewal, and a tombstone (Forget: the shares were deleted at T)
// removes the leases renewed at or before T. Renew secrets are never
// stored, only the hash the share store's containers keep.
//
// Expiry (Tahoe's expire.* settings, docs/garbage-collection.rst) is a
// query over the cache: Expired lists the storage indexes all of whose
// leases have expired under a Policy. A storage index with no lease record
// at all (shares written directly to the bucket, or before leases were
// kept) is never reported: only what the log knows can expire.
//
// The package does not delete shares (the share store does, then calls
// Forget) and does not authorize renewals.
package leaselog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
)

// Kind says which sort of share a lease keeps (Tahoe's expire.immutable and
// expire.mutable choose among them).
type Kind byte

// The kinds of share.
const (
	Immutable Kind = 'i'
	Mutable   Kind = 'm'
)

func (k Kind) valid() bool { return k == Immutable || k == Mutable }

// String is "immutable" or "mutable".
func (k Kind) String() string {
	switch k {
	case Immutable:
		return "immutable"
	case Mutable:
		return "mutable"
	}
	return fmt.Sprintf("Kind(%d)", byte(k))
}

// Lease is one lease on the shares of a storage index held by this server.
type Lease struct {
	SI   storage.StorageIndex
	Kind Kind
	// RenewHash names the lease's holder: a hash of the renew secret,
	// never the secret (the share store passes the BLAKE2b-256 its
	// containers keep).
	RenewHash [32]byte
	// Renewed is when the lease was created or last renewed; Expires is
	// when it runs out (Renewed + 31 days for Tahoe's clients).
	Renewed, Expires time.Time
}

// Object key prefixes.
const (
	logPrefix  = "leases/log/"
	snapPrefix = "leases/snap/"
	doneName   = "done"
	header     = "lafs-leaselog v1\n"
)

// Options configure a Store.
type Options struct {
	// CachePath is the SQLite cache file. "" keeps the cache in memory: it
	// is rebuilt from the backend at every Open.
	CachePath string
	// SnapshotPart is how many records a snapshot object holds at most; 0
	// means 100000.
	SnapshotPart int
	// Now tells the time (time.Now when nil); it stamps object names.
	Now func() time.Time
	// TombstoneTTL is how long Compact keeps the record of a deletion (so
	// that renewal records from before it, still in the log, do not bring
	// its leases back); 0 means 62 days, twice a lease's duration.
	TombstoneTTL time.Duration
}

// Store is the lease log over one backend, with its cache. It is safe for
// concurrent use; one Store per backend prefix writes (others may read and
// Sync).
type Store struct {
	b      backend.Backend
	db     *sql.DB
	opts   Options
	writer string

	// Group commit: renewals queue in pending; one caller at a time writes
	// the queue as an object, the others wait for its result.
	mu       sync.Mutex
	pending  *batch
	flushing bool
	lastName int64

	// applyMu serialises Sync and Compact (they read and write the applied
	// set).
	applyMu sync.Mutex
}

type batch struct {
	recs []record
	done chan struct{}
	err  error
}

// record is one line of a log object.
type record struct {
	forget bool
	lease  Lease
	at     time.Time // forget: when the shares were deleted
}

// Open opens the cache (creating it when missing) and brings it up to date
// from the backend: a missing or empty cache is rebuilt whole.
func Open(ctx context.Context, b backend.Backend, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SnapshotPart <= 0 {
		opts.SnapshotPart = 100000
	}
	if opts.TombstoneTTL <= 0 {
		opts.TombstoneTTL = 62 * 24 * time.Hour
	}
	dsn := "file::memory:?_pragma=foreign_keys(1)"
	if opts.CachePath != "" {
		dsn = "file:" + opts.CachePath + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("lease cache: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("lease cache %s: %w", opts.CachePath, err)
	}
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		db.Close()
		return nil, fmt.Errorf("lease log writer id: %w", err)
	}
	s := &Store{b: b, db: db, opts: opts, writer: hex.EncodeToString(id)}
	if err := s.Sync(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// The cache's schema. Times are Unix seconds.
const schema = `
CREATE TABLE IF NOT EXISTS leases (
	si BLOB NOT NULL,
	renew BLOB NOT NULL,
	kind INTEGER NOT NULL,
	renewed INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	PRIMARY KEY (si, renew)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS forgotten (
	si BLOB PRIMARY KEY,
	at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (
	key TEXT PRIMARY KEY
) WITHOUT ROWID;
`

// Close closes the cache. Renewals in flight finish first only if their
// callers wait for them; Close does not.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	return nil
}

// Renew records leases durably (one object for every renewal in flight)
// and then in the cache. It returns once they are stored in the backend,
// or with the backend's error, in which case none of them is recorded.
func (s *Store) Renew(ctx context.Context, leases ...Lease) error {
	recs := make([]record, 0, len(leases))
	for _, l := range leases {
		if !l.Kind.valid() {
			return fmt.Errorf("lease on %s: unknown kind %q", l.SI, byte(l.Kind))
		}
		recs = append(recs, record{lease: l})
	}
	return s.append(ctx, recs)
}

// Forget records that the shares of si were deleted at the given time: its
// leases renewed until then are dropped, here and at every rebuild.
func (s *Store) Forget(ctx context.Context, si storage.StorageIndex, at time.Time) error {
	return s.append(ctx, []record{{forget: true, lease: Lease{SI: si}, at: at}})
}

func (s *Store) append(ctx context.Context, recs []record) error {
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	if s.pending == nil {
		s.pending = &batch{done: make(chan struct{})}
	}
	b := s.pending
	b.recs = append(b.recs, recs...)
	if s.flushing {
		s.mu.Unlock()
		select {
		case <-b.done:
			return b.err
		case <-ctx.Done():
			return fmt.Errorf("lease renewal: %w", ctx.Err())
		}
	}
	// This caller writes batches until the queue is empty, then leaves;
	// the writes outlive a cancelled caller (bounded by a timeout) because
	// other callers wait for them.
	s.flushing = true
	for {
		cur := s.pending
		s.pending = nil
		if cur == nil {
			s.flushing = false
			s.mu.Unlock()
			break
		}
		name := s.nextName()
		s.mu.Unlock()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		cur.err = s.writeBatch(wctx, name, cur.recs)
		cancel()
		close(cur.done)
		s.mu.Lock()
	}
	return b.err
}

// nextName is a log object key later than any this Store made before.
// Called with s.mu held.
func (s *Store) nextName() string {
	n := s.opts.Now().UnixNano()
	if n <= s.lastName {
		n = s.lastName + 1
	}
	s.lastName = n
	return fmt.Sprintf("%s%020d-%s", logPrefix, n, s.writer)
}

func (s *Store) writeBatch(ctx context.Context, key string, recs []record) error {
	var buf bytes.Buffer
	buf.WriteString(header)
	for _, r := range recs {
		r.writeTo(&buf)
	}
	if err := s.b.PutAux(ctx, key, buf.Bytes()); err != nil {
		return fmt.Errorf("lease log: %w", err)
	}
	// The object is stored: the cache follows (a failure here is repaired
	// by the next rebuild, the log being the truth).
	if err := s.applyObject(ctx, key, recs); err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	return nil
}

func (r record) writeTo(w *bytes.Buffer) {
	if r.forget {
		fmt.Fprintf(w, "F %s %d\n", r.lease.SI, r.at.Unix())
		return
	}
	l := r.lease
	fmt.Fprintf(w, "L %s %c %x %d %d\n", l.SI, byte(l.Kind), l.RenewHash, l.Renewed.Unix(), l.Expires.Unix())
}

// maxObject bounds what the parser accepts from one object.
const maxObject = 256 << 20

// parseObject reads a log object or snapshot part.
func parseObject(data []byte) ([]record, error) {
	if len(data) > maxObject {
		return nil, fmt.Errorf("lease log object of %d bytes is over the %d limit", len(data), maxObject)
	}
	if !bytes.HasPrefix(data, []byte(header)) {
		return nil, errors.New("not a lease log object (no " + strings.TrimSpace(header) + " header)")
	}
	sc := bufio.NewScanner(bytes.NewReader(data[len(header):]))
	sc.Buffer(make([]byte, 0, 256), 1024)
	var out []record
	for line := 2; sc.Scan(); line++ {
		r, err := parseRecord(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseRecord(line string) (record, error) {
	f := strings.Split(line, " ")
	var r record
	if len(f) == 0 {
		return r, errors.New("empty record")
	}
	switch {
	case f[0] == "F" && len(f) == 3:
		si, err := storage.ParseStorageIndex(f[1])
		if err != nil {
			return r, err
		}
		at, err := parseUnix(f[2])
		if err != nil {
			return r, err
		}
		return record{forget: true, lease: Lease{SI: si}, at: at}, nil
	case f[0] == "L" && len(f) == 6:
		si, err := storage.ParseStorageIndex(f[1])
		if err != nil {
			return r, err
		}
		if len(f[2]) != 1 || !Kind(f[2][0]).valid() {
			return r, fmt.Errorf("unknown share kind %q", f[2])
		}
		var h [32]byte
		if len(f[3]) != 64 {
			return r, fmt.Errorf("renew hash %q: want 64 hex digits", f[3])
		}
		if _, err := hex.Decode(h[:], []byte(f[3])); err != nil {
			return r, fmt.Errorf("renew hash: %w", err)
		}
		renewed, err := parseUnix(f[4])
		if err != nil {
			return r, err
		}
		expires, err := parseUnix(f[5])
		if err != nil {
			return r, err
		}
		return record{lease: Lease{SI: si, Kind: Kind(f[2][0]), RenewHash: h, Renewed: renewed, Expires: expires}}, nil
	}
	return r, fmt.Errorf("malformed record %q", truncate(line))
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func parseUnix(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, fmt.Errorf("bad time %q", truncate(s))
	}
	return time.Unix(n, 0).UTC(), nil
}

// applyObject applies an object's records to the cache and marks it
// applied, in one transaction.
func (s *Store) applyObject(ctx context.Context, key string, recs []record) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := applyRecords(ctx, tx, recs); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO applied (key) VALUES (?)`, key)
		return err
	})
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func applyRecords(ctx context.Context, tx *sql.Tx, recs []record) error {
	up, err := tx.PrepareContext(ctx, `
		INSERT INTO leases (si, renew, kind, renewed, expires)
		SELECT ?1, ?2, ?3, ?4, ?5
		WHERE NOT EXISTS (SELECT 1 FROM forgotten WHERE si = ?1 AND at >= ?4)
		ON CONFLICT (si, renew) DO UPDATE SET kind = excluded.kind, renewed = excluded.renewed, expires = excluded.expires
		WHERE excluded.renewed > leases.renewed OR (excluded.renewed = leases.renewed AND excluded.expires > leases.expires)`)
	if err != nil {
		return err
	}
	defer up.Close()
	for _, r := range recs {
		si := r.lease.SI[:]
		if r.forget {
			at := r.at.Unix()
			if _, err := tx.ExecContext(ctx, `INSERT INTO forgotten (si, at) VALUES (?1, ?2)
				ON CONFLICT (si) DO UPDATE SET at = max(at, excluded.at)`, si, at); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE si = ? AND renewed <= ?`, si, at); err != nil {
				return err
			}
			continue
		}
		l := r.lease
		if _, err := up.ExecContext(ctx, si, l.RenewHash[:], int(l.Kind), l.Renewed.Unix(), l.Expires.Unix()); err != nil {
			return err
		}
	}
	return nil
}

// Sync applies the objects in the backend that the cache has not seen: the
// latest complete snapshot (when it is new) and every log object it does
// not cover. An empty cache is thereby rebuilt whole.
func (s *Store) Sync(ctx context.Context) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	keys, err := s.b.ListAux(ctx, "leases/")
	if err != nil {
		return fmt.Errorf("lease log: %w", err)
	}
	applied, err := s.appliedSet(ctx)
	if err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	snap, parts, covered, err := s.latestSnapshot(ctx, keys)
	if err != nil {
		return err
	}
	if snap != "" && !applied[snap+doneName] {
		for _, p := range parts {
			if err := s.fetchApply(ctx, p, ""); err != nil {
				return err
			}
		}
		// The snapshot covers these log objects: mark them applied so they
		// are not fetched.
		err := s.tx(ctx, func(tx *sql.Tx) error {
			for _, k := range append(covered, snap+doneName) {
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO applied (key) VALUES (?)`, k); err != nil {
					return err
				}
				applied[k] = true
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("lease cache: %w", err)
		}
	}
	for _, k := range keys {
		if strings.HasPrefix(k, logPrefix) && !applied[k] {
			if err := s.fetchApply(ctx, k, k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) appliedSet(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM applied`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// latestSnapshot finds the newest snapshot with a done marker among keys
// (sorted), and returns its directory ("leases/snap/NAME/"), its parts and
// the log objects it covers.
func (s *Store) latestSnapshot(ctx context.Context, keys []string) (dir string, parts, covered []string, err error) {
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if !strings.HasPrefix(k, snapPrefix) || !strings.HasSuffix(k, "/"+doneName) {
			continue
		}
		dir = strings.TrimSuffix(k, doneName)
		data, err := s.b.GetAux(ctx, k)
		if err != nil {
			return "", nil, nil, fmt.Errorf("lease log snapshot: %w", err)
		}
		covered, err = parseDone(data)
		if err != nil {
			return "", nil, nil, fmt.Errorf("lease log snapshot %s: %w", k, err)
		}
		for _, p := range keys {
			if strings.HasPrefix(p, dir) && p != k {
				parts = append(parts, p)
			}
		}
		return dir, parts, covered, nil
	}
	return "", nil, nil, nil
}

func parseDone(data []byte) ([]string, error) {
	if !bytes.HasPrefix(data, []byte(header)) {
		return nil, errors.New("no header")
	}
	var out []string
	for _, l := range strings.Split(string(data[len(header):]), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, logPrefix) || !backend.ValidAuxKey(l) {
			return nil, fmt.Errorf("bad covered key %q", truncate(l))
		}
		out = append(out, l)
	}
	return out, nil
}

// fetchApply GETs one object and applies it; mark is the applied key to
// record ("" for snapshot parts, recorded with their done marker).
func (s *Store) fetchApply(ctx context.Context, key, mark string) error {
	data, err := s.b.GetAux(ctx, key)
	if errors.Is(err, backend.ErrNotExist) {
		return nil // compacted away since the listing: a newer snapshot has it
	}
	if err != nil {
		return fmt.Errorf("lease log: %w", err)
	}
	recs, err := parseObject(data)
	if err != nil {
		return fmt.Errorf("lease log object %s: %w", key, err)
	}
	if mark == "" {
		err = s.tx(ctx, func(tx *sql.Tx) error { return applyRecords(ctx, tx, recs) })
	} else {
		err = s.applyObject(ctx, mark, recs)
	}
	if err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	return nil
}

// Rebuild empties the cache and reloads it from the backend.
func (s *Store) Rebuild(ctx context.Context) error {
	s.applyMu.Lock()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"leases", "forgotten", "applied"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		return nil
	})
	s.applyMu.Unlock()
	if err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	return s.Sync(ctx)
}

// Leases returns the leases the cache holds on si, by renew hash.
func (s *Store) Leases(ctx context.Context, si storage.StorageIndex) ([]Lease, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT renew, kind, renewed, expires FROM leases WHERE si = ? ORDER BY renew`, si[:])
	if err != nil {
		return nil, fmt.Errorf("lease cache: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		l := Lease{SI: si}
		var renew []byte
		var kind int
		var renewed, expires int64
		if err := rows.Scan(&renew, &kind, &renewed, &expires); err != nil {
			return nil, fmt.Errorf("lease cache: %w", err)
		}
		copy(l.RenewHash[:], renew)
		l.Kind = Kind(kind)
		l.Renewed, l.Expires = time.Unix(renewed, 0).UTC(), time.Unix(expires, 0).UTC()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lease cache: %w", err)
	}
	return out, nil
}

// Counts says how much the cache holds.
type Counts struct {
	Leases, StorageIndexes, LogObjects int
}

// Count reports the cache's size and how many log objects it has applied
// (snapshot-covered ones included).
func (s *Store) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM leases), (SELECT count(DISTINCT si) FROM leases),
		(SELECT count(*) FROM applied WHERE key LIKE 'leases/log/%')`).Scan(&c.Leases, &c.StorageIndexes, &c.LogObjects)
	if err != nil {
		return c, fmt.Errorf("lease cache: %w", err)
	}
	return c, nil
}

// Compact writes a snapshot of every lease and tombstone the cache holds
// (after a Sync) and then deletes the log objects and older snapshots it
// covers, so a rebuild reads a few large objects instead of many small
// ones. Renewals may go on meanwhile: objects written after the Sync are
// not covered and stay.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	keys, err := s.b.ListAux(ctx, "leases/")
	if err != nil {
		return fmt.Errorf("lease log: %w", err)
	}
	applied, err := s.appliedSet(ctx)
	if err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	var covered, oldSnaps []string
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, logPrefix) && applied[k]:
			covered = append(covered, k)
		case strings.HasPrefix(k, snapPrefix):
			oldSnaps = append(oldSnaps, k)
		}
	}
	if len(covered) == 0 {
		return nil // nothing to fold
	}
	s.mu.Lock()
	dir := snapPrefix + strings.TrimPrefix(s.nextName(), logPrefix) + "/"
	s.mu.Unlock()

	// Parts: the cache's tombstones and leases, SnapshotPart records each.
	var buf bytes.Buffer
	part, n := 0, 0
	flush := func() error {
		if n == 0 && part > 0 {
			return nil
		}
		key := fmt.Sprintf("%s%06d", dir, part)
		if err := s.b.PutAux(ctx, key, append([]byte(header), buf.Bytes()...)); err != nil {
			return fmt.Errorf("lease log snapshot: %w", err)
		}
		part++
		n = 0
		buf.Reset()
		return nil
	}
	add := func(r record) error {
		r.writeTo(&buf)
		n++
		if n >= s.opts.SnapshotPart {
			return flush()
		}
		return nil
	}
	if err := s.eachRecord(ctx, add); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	var done bytes.Buffer
	done.WriteString(header)
	for _, k := range covered {
		done.WriteString(k + "\n")
	}
	if err := s.b.PutAux(ctx, dir+doneName, done.Bytes()); err != nil {
		return fmt.Errorf("lease log snapshot: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO applied (key) VALUES (?)`, dir+doneName); err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	// The snapshot is complete: what it covers can go (a crash here only
	// leaves objects a rebuild skips).
	for _, k := range append(oldSnaps, covered...) {
		if err := s.b.DeleteAux(ctx, k); err != nil {
			return fmt.Errorf("lease log compaction: %w", err)
		}
	}
	return nil
}

// eachRecord calls fn for every tombstone younger than the TTL and every
// lease in the cache. Leases are read a page at a time (keyset
// pagination), so fn (which uploads snapshot parts) never runs while the
// cache is held.
func (s *Store) eachRecord(ctx context.Context, fn func(record) error) error {
	cutoff := s.opts.Now().Add(-s.opts.TombstoneTTL).Unix()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM forgotten WHERE at < ?`, cutoff); err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	var tombs []record
	rows, err := s.db.QueryContext(ctx, `SELECT si, at FROM forgotten ORDER BY si`)
	if err != nil {
		return fmt.Errorf("lease cache: %w", err)
	}
	for rows.Next() {
		var si []byte
		var at int64
		if err := rows.Scan(&si, &at); err != nil {
			rows.Close()
			return fmt.Errorf("lease cache: %w", err)
		}
		r := record{forget: true, at: time.Unix(at, 0)}
		copy(r.lease.SI[:], si)
		tombs = append(tombs, r)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("lease cache: %w", err)
	}
	rows.Close()
	for _, r := range tombs {
		if err := fn(r); err != nil {
			return err
		}
	}
	var afterSI, afterRenew []byte
	for {
		page, err := s.leasePage(ctx, afterSI, afterRenew, s.opts.SnapshotPart)
		if err != nil {
			return fmt.Errorf("lease cache: %w", err)
		}
		for _, l := range page {
			if err := fn(record{lease: l}); err != nil {
				return err
			}
		}
		if len(page) < s.opts.SnapshotPart {
			return nil
		}
		last := page[len(page)-1]
		afterSI, afterRenew = last.SI[:], last.RenewHash[:]
	}
}

// leasePage returns up to n leases ordered by (storage index, renew hash)
// after the given key (nil: from the start).
func (s *Store) leasePage(ctx context.Context, afterSI, afterRenew []byte, n int) ([]Lease, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT si, renew, kind, renewed, expires FROM leases
		WHERE ?1 IS NULL OR si > ?1 OR (si = ?1 AND renew > ?2)
		ORDER BY si, renew LIMIT ?3`, afterSI, afterRenew, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var si, renew []byte
		var kind int
		var renewed, expires int64
		if err := rows.Scan(&si, &renew, &kind, &renewed, &expires); err != nil {
			return nil, err
		}
		var l Lease
		copy(l.SI[:], si)
		copy(l.RenewHash[:], renew)
		l.Kind, l.Renewed, l.Expires = Kind(kind), time.Unix(renewed, 0), time.Unix(expires, 0)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RemoveCache deletes a cache file and its SQLite companions (-wal, -shm);
// the next Open rebuilds it. A missing file is not an error.
func RemoveCache(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove lease cache: %w", err)
		}
	}
	return nil
}
