package leaselog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/storage"
)

// Policy is Tahoe's lease expiry configuration ([storage] expire.* in
// tahoe.cfg, docs/garbage-collection.rst).
type Policy struct {
	// Mode is "age" or "cutoff-date".
	Mode string
	// OverrideLeaseDuration (age mode), when positive, replaces every
	// lease's own duration: a lease expires at Renewed + this.
	OverrideLeaseDuration time.Duration
	// CutoffDate (cutoff-date mode): a lease renewed before it has expired.
	CutoffDate time.Time
	// Immutable and Mutable say which kinds of share may be collected.
	Immutable, Mutable bool
}

// Expiry modes.
const (
	ModeAge        = "age"
	ModeCutoffDate = "cutoff-date"
)

// ParsePolicy reads the expire.* settings; get returns a [storage] key's
// value ("" when unset). enabled is expire.enabled; with it false the
// other keys are still checked.
func ParsePolicy(get func(key string) string) (p Policy, enabled bool, err error) {
	p.Immutable, p.Mutable = true, true
	if enabled, err = parseBool(get, "expire.enabled", false); err != nil {
		return p, false, err
	}
	if p.Immutable, err = parseBool(get, "expire.immutable", true); err != nil {
		return p, false, err
	}
	if p.Mutable, err = parseBool(get, "expire.mutable", true); err != nil {
		return p, false, err
	}
	p.Mode = strings.TrimSpace(get("expire.mode"))
	override := strings.TrimSpace(get("expire.override_lease_duration"))
	cutoff := strings.TrimSpace(get("expire.cutoff_date"))
	switch p.Mode {
	case ModeAge:
		if cutoff != "" {
			return p, false, errors.New("[storage]expire.cutoff_date is only valid with expire.mode = cutoff-date")
		}
		if override != "" {
			if p.OverrideLeaseDuration, err = ParseDuration(override); err != nil {
				return p, false, fmt.Errorf("[storage]expire.override_lease_duration: %w", err)
			}
		}
	case ModeCutoffDate:
		if override != "" {
			return p, false, errors.New("[storage]expire.override_lease_duration is only valid with expire.mode = age")
		}
		if cutoff == "" {
			return p, false, errors.New("[storage]expire.mode = cutoff-date needs expire.cutoff_date")
		}
		if p.CutoffDate, err = time.Parse("2006-01-02", cutoff); err != nil {
			return p, false, fmt.Errorf("[storage]expire.cutoff_date %q: want YYYY-MM-DD", cutoff)
		}
	case "":
		if enabled {
			return p, false, errors.New(`[storage]expire.enabled needs expire.mode ("age" or "cutoff-date")`)
		}
	default:
		return p, false, fmt.Errorf(`[storage]expire.mode = %q: want "age" or "cutoff-date"`, p.Mode)
	}
	return p, enabled, nil
}

func parseBool(get func(string) string, key string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(get(key))) {
	case "":
		return def, nil
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("[storage]%s = %q: want a boolean", key, get(key))
}

var durationRE = regexp.MustCompile(`^(\d+)\s*(s|seconds?|days?|mo|months?|years?)$`)

// ParseDuration parses Tahoe's duration strings: a number and one of the
// units s, second(s), day(s), mo, month(s), year(s), case-insensitively
// ("7days", "31 day", "2mo", "12 months", "2years", "90s"). A month is 31
// days and a year 365, as in Tahoe.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("duration %q: want a number and a unit (s, days, months, years)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<30 {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	day := 24 * time.Hour
	unit := time.Second
	switch u := m[2]; {
	case strings.HasPrefix(u, "day"):
		unit = day
	case strings.HasPrefix(u, "mo"):
		unit = 31 * day
	case strings.HasPrefix(u, "year"):
		unit = 365 * day
	}
	d := time.Duration(n) * unit
	if d/unit != time.Duration(n) {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	return d, nil
}

// ExpiredIndex is a storage index whose every lease has expired.
type ExpiredIndex struct {
	SI   storage.StorageIndex
	Kind Kind
	// Until is when its last lease ran out (age mode) or was last renewed
	// (cutoff-date mode).
	Until time.Time
}

// Expired lists, from the cache, the storage indexes all of whose leases
// have expired under p at now, of the kinds p collects, ordered by storage
// index. Call Sync first when other writers may have renewed.
func (s *Store) Expired(ctx context.Context, p Policy, now time.Time) ([]ExpiredIndex, error) {
	var q string
	var args []any
	switch p.Mode {
	case ModeAge:
		if p.OverrideLeaseDuration > 0 {
			q = `SELECT si, max(kind), max(renewed) + ?1 AS t FROM leases GROUP BY si HAVING t < ?2 ORDER BY si`
			args = []any{int64(p.OverrideLeaseDuration / time.Second), now.Unix()}
		} else {
			q = `SELECT si, max(kind), max(expires) AS t FROM leases GROUP BY si HAVING t < ?1 ORDER BY si`
			args = []any{now.Unix()}
		}
	case ModeCutoffDate:
		q = `SELECT si, max(kind), max(renewed) AS t FROM leases GROUP BY si HAVING t < ?1 ORDER BY si`
		args = []any{p.CutoffDate.Unix()}
	default:
		return nil, fmt.Errorf("expiry mode %q: want %q or %q", p.Mode, ModeAge, ModeCutoffDate)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("lease cache: %w", err)
	}
	defer rows.Close()
	var out []ExpiredIndex
	for rows.Next() {
		var si []byte
		var kind int
		var t int64
		if err := rows.Scan(&si, &kind, &t); err != nil {
			return nil, fmt.Errorf("lease cache: %w", err)
		}
		e := ExpiredIndex{Kind: Kind(kind), Until: time.Unix(t, 0).UTC()}
		copy(e.SI[:], si)
		if e.Kind == Immutable && !p.Immutable || e.Kind == Mutable && !p.Mutable {
			continue
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lease cache: %w", err)
	}
	return out, nil
}

// Recorder is a Store as the share store uses it (shares.LeaseLog): leases
// per storage index, expiry under Policy.
type Recorder struct {
	Store  *Store
	Policy Policy
}

// RenewLease records one lease.
func (r Recorder) RenewLease(ctx context.Context, si storage.StorageIndex, mutable bool, renewHash [32]byte, renewed, expires time.Time) error {
	kind := Immutable
	if mutable {
		kind = Mutable
	}
	return r.Store.Renew(ctx, Lease{SI: si, Kind: kind, RenewHash: renewHash, Renewed: renewed, Expires: expires})
}

// ExpiredIndexes lists the storage indexes expired under r.Policy at now.
func (r Recorder) ExpiredIndexes(ctx context.Context, now time.Time) ([]storage.StorageIndex, error) {
	exp, err := r.Store.Expired(ctx, r.Policy, now)
	if err != nil {
		return nil, err
	}
	out := make([]storage.StorageIndex, len(exp))
	for i, e := range exp {
		out[i] = e.SI
	}
	return out, nil
}

// ForgetIndex records the deletion of si's shares at t.
func (r Recorder) ForgetIndex(ctx context.Context, si storage.StorageIndex, t time.Time) error {
	return r.Store.Forget(ctx, si, t)
}
