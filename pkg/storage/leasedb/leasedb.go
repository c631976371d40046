// Package leasedb is the lease database of Tahoe's docs/proposed/leasedb.rst
// in SQLite (modernc.org/sqlite, pure Go): every share a store holds and
// every lease on it, so expiry and space accounting are queries rather than
// walks over share containers. It implements shares.LeaseRecorder; the
// containers stay authoritative and the database is rebuilt from a share
// backend when it is missing.
//
// It does not read or write share containers itself beyond Rebuild's walk
// (through shares.Inspect), and nothing outside the storage node links it:
// clients do not.
package leasedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// DB is the lease database: every share the store holds and every lease on
// it. The share containers stay authoritative (Tahoe reads its leases from
// them); the database mirrors them and is rebuilt from the share backend
// when it is missing, with a starter lease for any share that has none.
//
// Concurrent PutShare calls are group-committed: one caller at a time runs
// a transaction recording every share queued meanwhile, and each caller
// returns once the transaction holding its record has committed.
type DB struct {
	db *sql.DB
	// The statements of putShareTx, prepared once.
	upsertShare, deleteLeases, insertLease, insertStarter *sql.Stmt

	mu    sync.Mutex
	queue []*putRequest // waiting for the next transaction
	// flushing: a caller is committing a group; it hands the lead to
	// queue[0] when done. Never set while the queue is empty and no
	// caller commits.
	flushing bool
}

// putRequest is one PutShare waiting in the group-commit queue.
type putRequest struct {
	si     storage.StorageIndex
	shnum  int
	kind   shares.ContainerKind
	size   int64
	leases []shares.Lease
	// done gets errLead (at most once) and then the result; buffered, so
	// no sender blocks.
	done chan error
}

var _ shares.LeaseRecorder = (*DB)(nil)

// Record is one row of the leases table.
type Record struct {
	StorageIndex storage.StorageIndex
	Share        int
	Owner        uint32
	RenewHash    [32]byte
	CancelHash   [32]byte
	Expiration   time.Time
	// Starter marks a lease the database invented when rebuilding for a
	// share that carried none.
	Starter bool
}

const leaseSchema = `
CREATE TABLE IF NOT EXISTS shares (
	storage_index TEXT NOT NULL,
	shnum INTEGER NOT NULL,
	kind TEXT NOT NULL,
	size INTEGER NOT NULL,
	PRIMARY KEY (storage_index, shnum)
);
CREATE TABLE IF NOT EXISTS leases (
	storage_index TEXT NOT NULL,
	shnum INTEGER NOT NULL,
	owner INTEGER NOT NULL,
	renew_secret_hash BLOB NOT NULL,
	cancel_secret_hash BLOB NOT NULL,
	expiration INTEGER NOT NULL,
	starter INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (storage_index, shnum, owner, renew_secret_hash),
	FOREIGN KEY (storage_index, shnum) REFERENCES shares ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS leases_expiration ON leases (expiration);
`

// Open opens the lease database at path. When the file does not exist it
// is created and rebuilt from the shares in b (which may be nil for an
// empty database); now dates the starter leases.
func Open(ctx context.Context, path string, b backend.Backend, now time.Time) (*DB, error) {
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=locking_mode(EXCLUSIVE)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open lease database: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, leaseSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create lease database schema: %w", err)
	}
	l := &DB{db: db}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&l.upsertShare, sqlUpsertShare},
		{&l.deleteLeases, sqlDeleteLeases},
		{&l.insertLease, sqlInsertLease},
		{&l.insertStarter, sqlInsertStarter},
	} {
		if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare lease database statement: %w", err)
		}
	}
	if fresh && b != nil {
		if err := l.Rebuild(ctx, b, now); err != nil {
			db.Close()
			return nil, err
		}
	}
	return l, nil
}

// Close closes the database.
func (l *DB) Close() error { return l.db.Close() }

// The statements recording a share and its leases.
const (
	sqlUpsertShare = `INSERT INTO shares(storage_index, shnum, kind, size) VALUES (?,?,?,?)
		ON CONFLICT(storage_index, shnum) DO UPDATE SET kind=excluded.kind, size=excluded.size`
	sqlDeleteLeases  = `DELETE FROM leases WHERE storage_index=? AND shnum=?`
	sqlInsertLease   = `INSERT OR REPLACE INTO leases(storage_index, shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter) VALUES (?,?,?,?,?,?,0)`
	sqlInsertStarter = `INSERT INTO leases(storage_index, shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter) VALUES (?,?,0,?,?,?,1)`
)

// maxGroup bounds the records one group-commit transaction holds.
const maxGroup = 256

// PutShare records share shnum of si with its size and exactly these
// leases, replacing what was recorded before. It returns once the record
// has committed, in a transaction it may share with concurrent calls; the
// record is made even if ctx ends meanwhile (the containers have changed
// already).
func (l *DB) PutShare(ctx context.Context, si storage.StorageIndex, shnum int, kind shares.ContainerKind, size int64, leases []shares.Lease) error {
	req := &putRequest{si: si, shnum: shnum, kind: kind, size: size, leases: leases, done: make(chan error, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, req)
	if l.flushing {
		l.mu.Unlock()
		if err := <-req.done; err != errLead {
			return err // committed (or failed) in another caller's group
		}
		l.mu.Lock() // handed the lead: req is first in the queue
	}
	// Lead: commit the first group of the queue (it holds req), then hand
	// the lead to the first caller still waiting, so no caller commits
	// more than one group.
	l.flushing = true
	group := l.queue[:min(len(l.queue), maxGroup)]
	l.queue = l.queue[len(group):]
	l.mu.Unlock()
	l.commitGroup(context.WithoutCancel(ctx), group)
	l.mu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].done <- errLead
	} else {
		l.queue = nil
		l.flushing = false
	}
	l.mu.Unlock()
	return <-req.done
}

// errLead tells a queued PutShare that it now commits the queue.
var errLead = errors.New("lease database: lead the group commit")

// commitGroup records group in one transaction and tells each request its
// result. When that transaction fails, each record is tried in its own,
// so one bad record fails only its own caller.
func (l *DB) commitGroup(ctx context.Context, group []*putRequest) {
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range group {
			if err := l.putShareTx(ctx, tx, r.si, r.shnum, r.kind, r.size, r.leases, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 {
		for _, r := range group {
			r.done <- err
		}
		return
	}
	for _, r := range group {
		r.done <- l.inTx(ctx, func(tx *sql.Tx) error {
			return l.putShareTx(ctx, tx, r.si, r.shnum, r.kind, r.size, r.leases, time.Time{})
		})
	}
}

// inTx runs fn in a transaction and commits it.
func (l *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lease database: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("lease database commit: %w", err)
	}
	return nil
}

// putShareTx records one share and its leases inside tx.
func (l *DB) putShareTx(ctx context.Context, tx *sql.Tx, si storage.StorageIndex, shnum int, kind shares.ContainerKind, size int64, leases []shares.Lease, starterAt time.Time) error {
	s := si.String()
	if _, err := tx.StmtContext(ctx, l.upsertShare).ExecContext(ctx, s, shnum, kind.String(), size); err != nil {
		return fmt.Errorf("record share %s/%d: %w", si, shnum, err)
	}
	if _, err := tx.StmtContext(ctx, l.deleteLeases).ExecContext(ctx, s, shnum); err != nil {
		return fmt.Errorf("record leases of %s/%d: %w", si, shnum, err)
	}
	for _, ls := range leases {
		if _, err := tx.StmtContext(ctx, l.insertLease).ExecContext(ctx, s, shnum, ls.Owner, ls.RenewSecret[:], ls.CancelSecret[:], int64(ls.Expiration)); err != nil {
			return fmt.Errorf("record lease of %s/%d: %w", si, shnum, err)
		}
	}
	if len(leases) == 0 && !starterAt.IsZero() {
		var zero [32]byte
		if _, err := tx.StmtContext(ctx, l.insertStarter).ExecContext(ctx, s, shnum, zero[:], zero[:], starterAt.Unix()+shares.LeaseDuration); err != nil {
			return fmt.Errorf("record starter lease of %s/%d: %w", si, shnum, err)
		}
	}
	return nil
}

// DeleteShare forgets a share and its leases.
func (l *DB) DeleteShare(ctx context.Context, si storage.StorageIndex, shnum int) error {
	if _, err := l.db.ExecContext(ctx, `DELETE FROM shares WHERE storage_index=? AND shnum=?`, si.String(), shnum); err != nil {
		return fmt.Errorf("forget share %s/%d: %w", si, shnum, err)
	}
	return nil
}

// Rebuild empties the database and fills it from the share backend: the
// leases each container carries, or a starter lease expiring 31 days after
// now for a share that carries none. Containers of unknown formats are
// skipped.
func (l *DB) Rebuild(ctx context.Context, b backend.Backend, now time.Time) error {
	// One transaction: a rebuild is all or nothing, and fast.
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lease database: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM leases; DELETE FROM shares;`); err != nil {
		return fmt.Errorf("clear lease database: %w", err)
	}
	err = b.Walk(ctx, func(si storage.StorageIndex) error {
		nums, err := b.List(ctx, si)
		if err != nil {
			return err
		}
		for _, n := range nums {
			info, err := inspect(ctx, b, si, n)
			if errors.Is(err, shares.ErrUnknownContainer) || errors.Is(err, backend.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := l.putShareTx(ctx, tx, si, n, info.Kind, info.DataLength, info.Leases, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild lease database: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild lease database: %w", err)
	}
	return nil
}

func inspect(ctx context.Context, b backend.Backend, si storage.StorageIndex, n int) (shares.ContainerInfo, error) {
	r, err := b.Open(ctx, si, n)
	if err != nil {
		return shares.ContainerInfo{}, fmt.Errorf("open share %s/%d: %w", si, n, err)
	}
	defer r.Close()
	info, err := shares.Inspect(r)
	if err != nil {
		return info, fmt.Errorf("share %s/%d: %w", si, n, err)
	}
	return info, nil
}

// Leases returns the leases recorded for si, ordered by share.
func (l *DB) Leases(ctx context.Context, si storage.StorageIndex) ([]Record, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter FROM leases WHERE storage_index=? ORDER BY shnum, expiration`, si.String())
	if err != nil {
		return nil, fmt.Errorf("query leases: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r := Record{StorageIndex: si}
		var renew, cancel []byte
		var exp int64
		if err := rows.Scan(&r.Share, &r.Owner, &renew, &cancel, &exp, &r.Starter); err != nil {
			return nil, fmt.Errorf("scan lease: %w", err)
		}
		copy(r.RenewHash[:], renew)
		copy(r.CancelHash[:], cancel)
		r.Expiration = time.Unix(exp, 0)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ExpiredShares lists the shares whose every lease expired before now: the
// ones an expirer may delete.
func (l *DB) ExpiredShares(ctx context.Context, now time.Time) ([]shares.ShareRef, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT s.storage_index, s.shnum FROM shares s
		WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.storage_index=s.storage_index AND l.shnum=s.shnum AND l.expiration >= ?)
		ORDER BY s.storage_index, s.shnum`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("query expired shares: %w", err)
	}
	defer rows.Close()
	var out []shares.ShareRef
	for rows.Next() {
		var s string
		var r shares.ShareRef
		if err := rows.Scan(&s, &r.Share); err != nil {
			return nil, fmt.Errorf("scan share: %w", err)
		}
		if r.StorageIndex, err = storage.ParseStorageIndex(s); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SpaceUsed is the total share data recorded, in bytes, and the number of shares.
func (l *DB) SpaceUsed(ctx context.Context) (bytes int64, shares int64, err error) {
	if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(size),0), COUNT(*) FROM shares`).Scan(&bytes, &shares); err != nil {
		return 0, 0, fmt.Errorf("query space used: %w", err)
	}
	return bytes, shares, nil
}
