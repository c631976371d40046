package expiry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/nodedir"
)

func policy(t *testing.T, storage string) (Policy, error) {
	t.Helper()
	cfg, err := nodedir.ParseConfig(strings.NewReader("[storage]\n"+storage), "tahoe.cfg")
	if err != nil {
		t.Fatal(err)
	}
	return FromConfig(cfg)
}

func TestFromConfig(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name, cfg string
		want      Policy
		err       string
	}{
		{name: "defaults", cfg: "", want: Policy{Mode: ModeAge, Immutable: true, Mutable: true}},
		{name: "empty values", cfg: "expire.enabled =\nexpire.mode =\n", want: Policy{Mode: ModeAge, Immutable: true, Mutable: true}},
		{name: "age", cfg: "expire.enabled = true\nexpire.mode = age\n", want: Policy{Enabled: true, Mode: ModeAge, Immutable: true, Mutable: true}},
		{name: "override", cfg: "expire.enabled = yes\nexpire.mode = age\nexpire.override_lease_duration = 60 days\nexpire.mutable = false\n",
			want: Policy{Enabled: true, Mode: ModeAge, OverrideLeaseDuration: 60 * day, Immutable: true}},
		{name: "cutoff", cfg: "expire.enabled = True\nexpire.mode = cutoff-date\nexpire.cutoff_date = 2009-01-16\nexpire.immutable = off\n",
			want: Policy{Enabled: true, Mode: ModeCutoffDate, CutoffDate: time.Date(2009, 1, 16, 0, 0, 0, 0, time.UTC), Mutable: true}},
		{name: "no mode", cfg: "expire.enabled = true\n", err: "expire.mode must be set"},
		{name: "bad mode", cfg: "expire.mode = sometimes\n", err: `expire.mode = "sometimes"`},
		{name: "override with cutoff", cfg: "expire.mode = cutoff-date\nexpire.cutoff_date = 2020-01-01\nexpire.override_lease_duration = 2mo\n", err: "only valid with expire.mode = age"},
		{name: "cutoff with age", cfg: "expire.mode = age\nexpire.cutoff_date = 2020-01-01\n", err: "only valid with expire.mode = cutoff-date"},
		{name: "cutoff missing", cfg: "expire.mode = cutoff-date\n", err: "expire.cutoff_date must be set"},
		{name: "bad date", cfg: "expire.mode = cutoff-date\nexpire.cutoff_date = 16/01/2009\n", err: "not a date"},
		{name: "bad duration", cfg: "expire.override_lease_duration = 3 weeks\n", err: "not a duration"},
		{name: "bad bool", cfg: "expire.enabled = maybe\n", err: "not a boolean"},
	} {
		got, err := policy(t, tc.cfg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrConfig) {
				t.Errorf("%s: %v, want an ErrConfig with %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"7days": 7 * day, "31day": 31 * day, "60 days": 60 * day, "2mo": 62 * day, "3 month": 93 * day,
		"12 months": 372 * day, "2years": 730 * day, "1 YEAR": 365 * day, " 30s ": 30 * time.Second, "1second": time.Second,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "days", "7", "7 weeks", "-3 days", "1.5 days", "99999999999999999999 days"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}

func TestExpires(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	fresh := now.Add(20 * day) // renewed 11 days ago
	stale := now.Add(-1 * day) // renewed 32 days ago: past its 31 days
	ancient := now.Add(-90 * day)
	age := Policy{Enabled: true, Mode: ModeAge, Immutable: true, Mutable: true}
	long := age
	long.OverrideLeaseDuration = 60 * day
	short := age
	short.OverrideLeaseDuration = 10 * day
	cutoff := Policy{Enabled: true, Mode: ModeCutoffDate, CutoffDate: now.Add(-15 * day), Immutable: true, Mutable: true}
	for _, tc := range []struct {
		name   string
		p      Policy
		kind   string
		leases []time.Time
		want   bool
	}{
		{"disabled", Policy{Mode: ModeAge, Immutable: true, Mutable: true}, Immutable, []time.Time{ancient}, false},
		{"age: all expired", age, Immutable, []time.Time{stale, ancient}, true},
		{"age: one renewed", age, Mutable, []time.Time{stale, fresh}, false},
		{"age: no lease", age, Immutable, nil, false},
		{"override 60 days keeps a 32-day-old lease", long, Immutable, []time.Time{stale}, false},
		{"override 60 days drops a 121-day-old lease", long, Immutable, []time.Time{ancient}, true},
		{"override 10 days drops an 11-day-old lease", short, Immutable, []time.Time{fresh}, true},
		{"cutoff: renewed before", cutoff, Immutable, []time.Time{stale}, true},
		{"cutoff: renewed after", cutoff, Immutable, []time.Time{fresh}, false},
		{"immutable kept", Policy{Enabled: true, Mode: ModeAge, Mutable: true}, Immutable, []time.Time{ancient}, false},
		{"mutable kept", Policy{Enabled: true, Mode: ModeAge, Immutable: true}, Mutable, []time.Time{ancient}, false},
	} {
		if got := tc.p.Expires(tc.kind, tc.leases, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		// Threshold selects exactly the leases LeaseExpired condemns.
		for _, e := range tc.leases {
			if tc.p.LeaseExpired(e, now) != e.Before(tc.p.Threshold(now)) {
				t.Errorf("%s: Threshold disagrees with LeaseExpired for %v", tc.name, e)
			}
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7days", "2 mo", "1year", "30s", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("negative duration %v from %q", d, s)
		}
	})
}
