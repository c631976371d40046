// Package expiry is a storage node's lease-expiration policy, as Tahoe-LAFS
// configures it in tahoe.cfg's [storage] section (docs/garbage-collection.rst):
// expire.enabled, expire.mode (age or cutoff-date),
// expire.override_lease_duration, expire.cutoff_date, expire.immutable and
// expire.mutable. It decides whether a lease has expired and whether a
// share whose leases are given may be deleted.
//
// It owns only the rules: finding shares and leases and deleting shares is
// the share store's business, and running the expirer is the node's.
package expiry

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/nodedir"
)

// Mode is how leases are judged expired.
type Mode string

// The modes of expire.mode.
const (
	// ModeAge: a lease expires when its renewal time plus its duration
	// (or expire.override_lease_duration) is past.
	ModeAge Mode = "age"
	// ModeCutoffDate: a lease expires when it was last renewed before the
	// cutoff date.
	ModeCutoffDate Mode = "cutoff-date"
)

// LeaseDuration is the duration of every lease a Tahoe server grants (31
// days); a lease's renewal time is its expiration time minus this.
const LeaseDuration = 31 * 24 * time.Hour

// Share kinds.
const (
	Immutable = "immutable"
	Mutable   = "mutable"
)

// Policy is a node's expiration configuration. The zero value never
// expires anything.
type Policy struct {
	Enabled bool
	Mode    Mode
	// OverrideLeaseDuration, when non-zero (age mode only), replaces every
	// lease's own duration.
	OverrideLeaseDuration time.Duration
	// CutoffDate (cutoff-date mode): leases renewed before it expire.
	CutoffDate time.Time
	// Immutable and Mutable say which kinds of share may be deleted
	// (both by default).
	Immutable, Mutable bool
}

// ErrConfig wraps every error about the expire.* settings.
var ErrConfig = errors.New("invalid lease expiration settings")

// FromConfig reads the [storage] expire.* settings of a tahoe.cfg as Tahoe
// does: expire.mode is required once expiration is enabled (else it
// defaults to age), override_lease_duration only goes with age and
// cutoff_date is required with, and only with, cutoff-date.
func FromConfig(cfg *nodedir.Config) (Policy, error) {
	bad := func(format string, a ...any) (Policy, error) {
		return Policy{}, fmt.Errorf("[storage] %s: %w", fmt.Sprintf(format, a...), ErrConfig)
	}
	// An empty value means unset, as in the commented-out defaults of a
	// fresh tahoe.cfg.
	get := func(key string) (string, bool) {
		v, ok := cfg.Get("storage", key)
		return v, ok && v != ""
	}
	boolean := func(key string, def bool) (bool, error) {
		if _, ok := get(key); !ok {
			return def, nil
		}
		v, err := cfg.Bool("storage", key, def)
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return v, nil
	}
	var p Policy
	var err error
	if p.Enabled, err = boolean("expire.enabled", false); err != nil {
		return Policy{}, err
	}
	mode, ok := get("expire.mode")
	switch {
	case !ok && p.Enabled:
		return bad("expire.mode must be set (age or cutoff-date) when expire.enabled is true")
	case !ok:
		mode = string(ModeAge)
	}
	p.Mode = Mode(mode)
	if p.Mode != ModeAge && p.Mode != ModeCutoffDate {
		return bad("expire.mode = %q: want age or cutoff-date", mode)
	}
	if v, ok := get("expire.override_lease_duration"); ok {
		if p.Mode != ModeAge {
			return bad("expire.override_lease_duration is only valid with expire.mode = age")
		}
		if p.OverrideLeaseDuration, err = ParseDuration(v); err != nil {
			return bad("expire.override_lease_duration: %v", err)
		}
	}
	v, ok := get("expire.cutoff_date")
	switch {
	case p.Mode == ModeCutoffDate && !ok:
		return bad("expire.cutoff_date must be set when expire.mode = cutoff-date")
	case p.Mode == ModeCutoffDate:
		if p.CutoffDate, err = ParseDate(v); err != nil {
			return bad("expire.cutoff_date: %v", err)
		}
	case ok:
		return bad("expire.cutoff_date is only valid with expire.mode = cutoff-date")
	}
	if p.Immutable, err = boolean("expire.immutable", true); err != nil {
		return Policy{}, err
	}
	if p.Mutable, err = boolean("expire.mutable", true); err != nil {
		return Policy{}, err
	}
	return p, nil
}

var durationRE = regexp.MustCompile(`(?i)^\s*(\d+)\s*(seconds|second|s|days|day|months|month|mo|years|year)\s*$`)

// ParseDuration reads a duration as Tahoe's parse_duration does: a number
// and a unit (s, second(s), day(s), mo, month(s), year(s), any case,
// optionally separated by spaces); a month is 31 days and a year 365.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration like \"31 days\", \"2mo\" or \"1year\"", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", s, err)
	}
	var unit time.Duration
	switch strings.ToLower(m[2]) {
	case "s", "second", "seconds":
		unit = time.Second
	case "day", "days":
		unit = 24 * time.Hour
	case "mo", "month", "months":
		unit = 31 * 24 * time.Hour
	default:
		unit = 365 * 24 * time.Hour
	}
	if n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return time.Duration(n) * unit, nil
}

// ParseDate reads a cutoff date (YYYY-MM-DD): midnight UTC at the start of
// that day.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date like 2009-01-16", s)
	}
	return t.UTC(), nil
}

// LeaseExpired reports whether a lease with the given expiration time (as
// a share container stores it) has expired by now under p, whether or not
// expiration is enabled. Its renewal time is expiration minus the 31-day
// lease duration, as Tahoe reckons it.
func (p Policy) LeaseExpired(expiration, now time.Time) bool {
	renewed := expiration.Add(-LeaseDuration)
	switch p.Mode {
	case ModeCutoffDate:
		return renewed.Before(p.CutoffDate)
	default:
		if p.OverrideLeaseDuration > 0 {
			return renewed.Add(p.OverrideLeaseDuration).Before(now)
		}
		return expiration.Before(now)
	}
}

// Expires reports whether a share of the given kind (Immutable or Mutable)
// whose leases expire at the given times is to be deleted now: expiration
// is enabled, the kind may expire, and every lease has expired (a share
// with no lease at all is kept: there is nothing to judge it by).
func (p Policy) Expires(kind string, leases []time.Time, now time.Time) bool {
	if !p.Enabled || len(leases) == 0 {
		return false
	}
	if kind == Immutable && !p.Immutable || kind == Mutable && !p.Mutable {
		return false
	}
	for _, e := range leases {
		if !p.LeaseExpired(e, now) {
			return false
		}
	}
	return true
}

// Threshold is the expiration time before which every lease of a share
// must fall for the share to be a candidate now: a lease database can
// select candidates with it ("every lease's expiration < Threshold"), and
// Expires, on the share's own leases, decides.
func (p Policy) Threshold(now time.Time) time.Time {
	switch {
	case p.Mode == ModeCutoffDate:
		return p.CutoffDate.Add(LeaseDuration)
	case p.OverrideLeaseDuration > 0:
		return now.Add(LeaseDuration - p.OverrideLeaseDuration)
	}
	return now
}
