package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// LeaseDB is the lease database of docs/proposed/leasedb.rst: every share
// the store holds and every lease on it, in SQLite, so expiry and space
// accounting are queries rather than walks over share files. The share
// containers stay authoritative (Tahoe reads its leases from them); the
// database mirrors them and is rebuilt from the share store when it is
// missing, with a starter lease for any share that has none.
type LeaseDB struct {
	db *sql.DB
}

// LeaseRecord is one row of the leases table.
type LeaseRecord struct {
	StorageIndex StorageIndex
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

// OpenLeaseDB opens the lease database at path. When the file does not
// exist it is created and rebuilt from store (which may be nil for an empty
// database); now dates the starter leases.
func OpenLeaseDB(ctx context.Context, path string, store *DiskStore, now time.Time) (*LeaseDB, error) {
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open lease database: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, leaseSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create lease database schema: %w", err)
	}
	l := &LeaseDB{db: db}
	if fresh && store != nil {
		if err := l.Rebuild(ctx, store, now); err != nil {
			db.Close()
			return nil, err
		}
	}
	return l, nil
}

// Close closes the database.
func (l *LeaseDB) Close() error { return l.db.Close() }

// PutShare records share shnum of si with its size and exactly these
// leases, replacing what was recorded before.
func (l *LeaseDB) PutShare(ctx context.Context, si StorageIndex, shnum int, kind ContainerKind, size int64, leases []Lease) error {
	return l.putShare(ctx, si, shnum, kind, size, leases, time.Time{})
}

func (l *LeaseDB) putShare(ctx context.Context, si StorageIndex, shnum int, kind ContainerKind, size int64, leases []Lease, starterAt time.Time) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lease database: %w", err)
	}
	defer tx.Rollback()
	if err := putShareTx(ctx, tx, si, shnum, kind, size, leases, starterAt); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("lease database commit: %w", err)
	}
	return nil
}

// putShareTx records one share and its leases inside tx.
func putShareTx(ctx context.Context, tx *sql.Tx, si StorageIndex, shnum int, kind ContainerKind, size int64, leases []Lease, starterAt time.Time) error {
	s := si.String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO shares(storage_index, shnum, kind, size) VALUES (?,?,?,?)
		ON CONFLICT(storage_index, shnum) DO UPDATE SET kind=excluded.kind, size=excluded.size`, s, shnum, kind.String(), size); err != nil {
		return fmt.Errorf("record share %s/%d: %w", si, shnum, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE storage_index=? AND shnum=?`, s, shnum); err != nil {
		return fmt.Errorf("record leases of %s/%d: %w", si, shnum, err)
	}
	for _, ls := range leases {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO leases(storage_index, shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter) VALUES (?,?,?,?,?,?,0)`,
			s, shnum, ls.Owner, ls.RenewSecret[:], ls.CancelSecret[:], int64(ls.Expiration)); err != nil {
			return fmt.Errorf("record lease of %s/%d: %w", si, shnum, err)
		}
	}
	if len(leases) == 0 && !starterAt.IsZero() {
		var zero [32]byte
		if _, err := tx.ExecContext(ctx, `INSERT INTO leases(storage_index, shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter) VALUES (?,?,0,?,?,?,1)`,
			s, shnum, zero[:], zero[:], starterAt.Unix()+leaseRenewalSeconds); err != nil {
			return fmt.Errorf("record starter lease of %s/%d: %w", si, shnum, err)
		}
	}
	return nil
}

// DeleteShare forgets a share and its leases.
func (l *LeaseDB) DeleteShare(ctx context.Context, si StorageIndex, shnum int) error {
	if _, err := l.db.ExecContext(ctx, `DELETE FROM shares WHERE storage_index=? AND shnum=?`, si.String(), shnum); err != nil {
		return fmt.Errorf("forget share %s/%d: %w", si, shnum, err)
	}
	return nil
}

// Rebuild empties the database and fills it from the share store: the
// leases each container carries, or a starter lease expiring 31 days after
// now for a share that carries none.
func (l *LeaseDB) Rebuild(ctx context.Context, store *DiskStore, now time.Time) error {
	// One transaction: a rebuild is all or nothing, and fast.
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("lease database: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM leases; DELETE FROM shares;`); err != nil {
		return fmt.Errorf("clear lease database: %w", err)
	}
	err = store.WalkBuckets(func(si StorageIndex) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		nums, err := store.Shares(si)
		if err != nil {
			return err
		}
		for _, n := range nums {
			kind, size, leases, err := readShareLeases(store.SharePath(si, n))
			if errors.Is(err, ErrUnknownContainer) {
				continue
			}
			if err != nil {
				return err
			}
			if err := putShareTx(ctx, tx, si, n, kind, size, leases, now); err != nil {
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

// readShareLeases reads the container kind, data size and leases of a share file.
func readShareLeases(path string) (ContainerKind, int64, []Lease, error) {
	f, err := os.Open(path)
	if err != nil {
		return KindUnknown, 0, nil, fmt.Errorf("open share: %w", err)
	}
	hdr := make([]byte, 32)
	n, _ := f.ReadAt(hdr, 0)
	f.Close()
	switch DetectContainer(hdr[:n]) {
	case KindImmutable:
		c, err := openImmutable(path, false)
		if err != nil {
			return KindUnknown, 0, nil, err
		}
		defer c.Close()
		ls, err := c.Leases()
		return KindImmutable, c.dataLen, ls, err
	case KindMutable:
		c, err := openMutable(path, false)
		if err != nil {
			return KindUnknown, 0, nil, err
		}
		defer c.Close()
		dl, err := c.DataLength()
		if err != nil {
			return KindUnknown, 0, nil, err
		}
		ls, _, err := c.Leases()
		return KindMutable, dl, ls, err
	}
	return KindUnknown, 0, nil, fmt.Errorf("%s: %w", path, ErrUnknownContainer)
}

// Leases returns the leases recorded for si, ordered by share.
func (l *LeaseDB) Leases(ctx context.Context, si StorageIndex) ([]LeaseRecord, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT shnum, owner, renew_secret_hash, cancel_secret_hash, expiration, starter FROM leases WHERE storage_index=? ORDER BY shnum, expiration`, si.String())
	if err != nil {
		return nil, fmt.Errorf("query leases: %w", err)
	}
	defer rows.Close()
	var out []LeaseRecord
	for rows.Next() {
		r := LeaseRecord{StorageIndex: si}
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

// ShareRef names one share.
type ShareRef struct {
	StorageIndex StorageIndex
	Share        int
}

// ExpiredShares lists the shares whose every lease expired before now: the
// ones an expirer may delete.
func (l *LeaseDB) ExpiredShares(ctx context.Context, now time.Time) ([]ShareRef, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT s.storage_index, s.shnum FROM shares s
		WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.storage_index=s.storage_index AND l.shnum=s.shnum AND l.expiration >= ?)
		ORDER BY s.storage_index, s.shnum`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("query expired shares: %w", err)
	}
	defer rows.Close()
	var out []ShareRef
	for rows.Next() {
		var s string
		var r ShareRef
		if err := rows.Scan(&s, &r.Share); err != nil {
			return nil, fmt.Errorf("scan share: %w", err)
		}
		if r.StorageIndex, err = ParseStorageIndex(s); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SpaceUsed is the total share data recorded, in bytes, and the number of shares.
func (l *LeaseDB) SpaceUsed(ctx context.Context) (bytes int64, shares int64, err error) {
	if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(size),0), COUNT(*) FROM shares`).Scan(&bytes, &shares); err != nil {
		return 0, 0, fmt.Errorf("query space used: %w", err)
	}
	return bytes, shares, nil
}
