package leaselog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage/backend"
	"github.com/lafs/lafs/pkg/storage/backend/backendtest"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/backend/s3/s3test"
)

// place is where a lease log lives; open returns a backend onto it (a new
// one each time for S3, as a restarted node would make).
type place struct {
	name string
	open func(t *testing.T) backend.Backend
	srv  *s3test.Server // nil for mem
}

// places runs fn over the in-memory backend and over S3 (versitygw).
func places(t *testing.T, fn func(t *testing.T, p place)) {
	t.Run("mem", func(t *testing.T) {
		m := mem.New(mem.Options{})
		fn(t, place{name: "mem", open: func(*testing.T) backend.Backend { return m }})
	})
	t.Run("s3", func(t *testing.T) { fn(t, s3Place(t)) })
}

// s3Place is a bucket prefix on a fresh versitygw.
func s3Place(t *testing.T) place {
	srv := s3test.Start(t)
	cfg := s3.Config{
		URL: srv.URL, Region: srv.Region, Bucket: s3test.BucketName(), Prefix: "node0",
		AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey,
		SpoolDir: t.TempDir(), Attempts: 1,
	}
	if err := s3.CreateBucket(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return place{name: "s3", srv: srv, open: func(t *testing.T) backend.Backend {
		b, err := s3.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}}
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func lease(si byte, renew byte, kind Kind, renewed time.Time) Lease {
	return Lease{SI: backendtest.SI(si), Kind: kind, RenewHash: sha256.Sum256([]byte{renew}), Renewed: renewed, Expires: renewed.Add(31 * 24 * time.Hour)}
}

func open(t *testing.T, b backend.Backend, cache string) *Store {
	t.Helper()
	s, err := Open(context.Background(), b, Options{CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func leasesOf(t *testing.T, s *Store, si byte) []Lease {
	t.Helper()
	ls, err := s.Leases(context.Background(), backendtest.SI(si))
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestRenewAndRebuild(t *testing.T) {
	places(t, func(t *testing.T, p place) {
		ctx := context.Background()
		cache := filepath.Join(t.TempDir(), "leases.sqlite")
		s := open(t, p.open(t), cache)
		must(t, s.Renew(ctx, lease(1, 1, Immutable, t0), lease(1, 2, Immutable, t0)))
		must(t, s.Renew(ctx, lease(2, 1, Mutable, t0)))
		must(t, s.Renew(ctx, lease(1, 1, Immutable, t0.Add(time.Hour))))  // a renewal
		must(t, s.Renew(ctx, lease(1, 2, Immutable, t0.Add(-time.Hour)))) // an older record changes nothing
		check := func(s *Store) {
			t.Helper()
			ls := leasesOf(t, s, 1)
			if len(ls) != 2 {
				t.Fatalf("leases on SI 1: %d, want 2", len(ls))
			}
			byHash := map[[32]byte]Lease{}
			for _, l := range ls {
				byHash[l.RenewHash] = l
			}
			if l := byHash[lease(1, 1, Immutable, t0).RenewHash]; !l.Renewed.Equal(t0.Add(time.Hour)) || !l.Expires.Equal(t0.Add(time.Hour+31*24*time.Hour)) {
				t.Errorf("renewed lease = %+v", l)
			}
			if l := byHash[lease(1, 2, Immutable, t0).RenewHash]; !l.Renewed.Equal(t0) {
				t.Errorf("second lease renewed %v, want %v", l.Renewed, t0)
			}
			if ls := leasesOf(t, s, 2); len(ls) != 1 || ls[0].Kind != Mutable {
				t.Errorf("SI 2 leases = %+v", ls)
			}
		}
		check(s)

		// The node loses its local disk: a new cache is rebuilt from the
		// backend alone.
		check(open(t, p.open(t), filepath.Join(t.TempDir(), "fresh.sqlite")))
		// So is a purely in-memory one.
		check(open(t, p.open(t), ""))
		// Deleting the cache file and reopening rebuilds it too.
		must(t, s.Close())
		must(t, RemoveCache(cache))
		check(open(t, p.open(t), cache))
	})
}

// TestStaleCacheSyncs: a cache kept from an earlier run picks up what was
// written since, fetching only the new objects.
func TestStaleCacheSyncs(t *testing.T) {
	places(t, func(t *testing.T, p place) {
		ctx := context.Background()
		cache := filepath.Join(t.TempDir(), "leases.sqlite")
		s := open(t, p.open(t), cache)
		must(t, s.Renew(ctx, lease(1, 1, Immutable, t0)))
		must(t, s.Close())
		other := open(t, p.open(t), "")
		must(t, other.Renew(ctx, lease(3, 1, Immutable, t0)))
		s = open(t, p.open(t), cache)
		if len(leasesOf(t, s, 1)) != 1 || len(leasesOf(t, s, 3)) != 1 {
			t.Error("the reopened cache misses leases")
		}
		c, err := s.Count(ctx)
		must(t, err)
		if c.LogObjects != 2 || c.Leases != 2 {
			t.Errorf("Count = %+v, want 2 log objects, 2 leases", c)
		}
	})
}

func TestForget(t *testing.T) {
	places(t, func(t *testing.T, p place) {
		ctx := context.Background()
		s := open(t, p.open(t), "")
		must(t, s.Renew(ctx, lease(1, 1, Immutable, t0), lease(1, 2, Immutable, t0.Add(time.Minute))))
		must(t, s.Forget(ctx, backendtest.SI(1), t0.Add(time.Minute)))
		if ls := leasesOf(t, s, 1); len(ls) != 0 {
			t.Errorf("leases after Forget: %+v", ls)
		}
		// A rebuild does not resurrect them, whatever order it reads in.
		r := open(t, p.open(t), "")
		if ls := leasesOf(t, r, 1); len(ls) != 0 {
			t.Errorf("leases after a rebuild: %+v", ls)
		}
		// A later upload of the same storage index leases it again.
		must(t, s.Renew(ctx, lease(1, 3, Immutable, t0.Add(time.Hour))))
		if ls := leasesOf(t, open(t, p.open(t), ""), 1); len(ls) != 1 {
			t.Errorf("leases after a new upload: %d, want 1", len(ls))
		}
	})
}

func TestCompact(t *testing.T) {
	places(t, func(t *testing.T, p place) {
		ctx := context.Background()
		b := p.open(t)
		s, err := Open(ctx, b, Options{SnapshotPart: 7})
		must(t, err)
		defer s.Close()
		for i := 0; i < 20; i++ {
			must(t, s.Renew(ctx, lease(byte(i), 1, Immutable, t0.Add(time.Duration(i)*time.Second))))
		}
		must(t, s.Forget(ctx, backendtest.SI(0), t0.Add(time.Hour)))
		must(t, s.Compact(ctx))
		keys, err := b.ListAux(ctx, "leases/")
		must(t, err)
		var logs, parts, done int
		for _, k := range keys {
			switch {
			case strings.HasPrefix(k, logPrefix):
				logs++
			case strings.HasSuffix(k, "/done"):
				done++
			default:
				parts++
			}
		}
		// 19 leases and 1 tombstone in parts of 7.
		if logs != 0 || done != 1 || parts != 3 {
			t.Errorf("after Compact: %d log objects, %d snapshot parts, %d done markers; want 0, 3, 1", logs, parts, done)
		}
		// Renewals after the snapshot land in the log, and a rebuild reads
		// both.
		must(t, s.Renew(ctx, lease(30, 1, Mutable, t0)))
		r := open(t, p.open(t), "")
		c, err := r.Count(ctx)
		must(t, err)
		if c.Leases != 20 || c.StorageIndexes != 20 {
			t.Errorf("rebuilt from snapshot and log: %+v, want 20 leases", c)
		}
		if len(leasesOf(t, r, 0)) != 0 {
			t.Error("the tombstone did not survive compaction")
		}
		// A second compaction replaces the first snapshot.
		must(t, s.Compact(ctx))
		keys, _ = b.ListAux(ctx, "leases/")
		for _, k := range keys {
			if strings.HasPrefix(k, logPrefix) {
				t.Errorf("log object %s left after the second Compact", k)
			}
		}
		if c2, _ := open(t, p.open(t), "").Count(ctx); c2.Leases != 20 {
			t.Errorf("after the second Compact a rebuild has %d leases", c2.Leases)
		}
	})
}

// slowPuts delays every PutAux, so renewals pile up behind one in flight.
type slowPuts struct {
	backend.Backend
	mu   sync.Mutex
	puts int
}

func (s *slowPuts) PutAux(ctx context.Context, key string, data []byte) error {
	s.mu.Lock()
	s.puts++
	s.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	return s.Backend.PutAux(ctx, key, data)
}

// TestGroupCommit: renewals in flight together share one object.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	b := &slowPuts{Backend: mem.New(mem.Options{})}
	s, err := Open(ctx, b, Options{})
	must(t, err)
	defer s.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Renew(ctx, lease(byte(i), 1, Immutable, t0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.puts > 10 {
		t.Errorf("50 concurrent renewals took %d PUTs", b.puts)
	}
	t.Logf("50 concurrent renewals: %d PUTs", b.puts)
	c, _ := open(t, b, "").Count(ctx)
	if c.Leases != 50 {
		t.Errorf("rebuilt %d leases, want 50", c.Leases)
	}
}

// TestOutage: with S3 down a renewal fails (and is not recorded); when it
// returns, renewals work again on the same Store.
func TestOutage(t *testing.T) {
	p := s3Place(t)
	{
		ctx := context.Background()
		s := open(t, p.open(t), "")
		must(t, s.Renew(ctx, lease(1, 1, Immutable, t0)))
		p.srv.Stop(t)
		err := s.Renew(ctx, lease(2, 1, Immutable, t0))
		if !errors.Is(err, s3.ErrUnavailable) || !strings.Contains(err.Error(), "lease log") {
			t.Errorf("Renew with S3 down: %v", err)
		}
		if len(leasesOf(t, s, 2)) != 0 {
			t.Error("a failed renewal is in the cache")
		}
		if _, err := Open(ctx, p.open(t), Options{}); !errors.Is(err, s3.ErrUnavailable) {
			t.Errorf("Open with S3 down: %v", err)
		}
		p.srv.Restart(t)
		must(t, s.Renew(ctx, lease(2, 1, Immutable, t0)))
		if len(leasesOf(t, open(t, p.open(t), ""), 2)) != 1 {
			t.Error("the renewal after the outage is not in the bucket")
		}
	}
}

func TestExpired(t *testing.T) {
	ctx := context.Background()
	s := open(t, mem.New(mem.Options{}), "")
	day := 24 * time.Hour
	// SI 1: immutable, one old lease and one recent: alive.
	// SI 2: immutable, renewed 40 days ago: expired at 31 days.
	// SI 3: mutable, renewed 40 days ago.
	// SI 4: immutable, renewed 10 days ago.
	must(t, s.Renew(ctx,
		lease(1, 1, Immutable, t0.Add(-60*day)), lease(1, 2, Immutable, t0.Add(-1*day)),
		lease(2, 1, Immutable, t0.Add(-40*day)),
		lease(3, 1, Mutable, t0.Add(-40*day)),
		lease(4, 1, Immutable, t0.Add(-10*day)),
	))
	for _, tc := range []struct {
		name string
		p    Policy
		want []byte
	}{
		{"age", Policy{Mode: ModeAge, Immutable: true, Mutable: true}, []byte{2, 3}},
		{"age immutable only", Policy{Mode: ModeAge, Immutable: true}, []byte{2}},
		{"age mutable only", Policy{Mode: ModeAge, Mutable: true}, []byte{3}},
		{"age override 60 days", Policy{Mode: ModeAge, OverrideLeaseDuration: 60 * day, Immutable: true, Mutable: true}, nil},
		{"age override 5 days", Policy{Mode: ModeAge, OverrideLeaseDuration: 5 * day, Immutable: true, Mutable: true}, []byte{2, 3, 4}},
		{"cutoff 20 days ago", Policy{Mode: ModeCutoffDate, CutoffDate: t0.Add(-20 * day), Immutable: true, Mutable: true}, []byte{2, 3}},
		{"cutoff today", Policy{Mode: ModeCutoffDate, CutoffDate: t0, Immutable: true, Mutable: true}, []byte{1, 2, 3, 4}},
		{"collect nothing", Policy{Mode: ModeAge}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Expired(ctx, tc.p, t0)
			must(t, err)
			var sis []byte
			for _, e := range got {
				sis = append(sis, e.SI[0])
				if e.SI == backendtest.SI(3) && e.Kind != Mutable {
					t.Errorf("SI 3 kind = %v", e.Kind)
				}
			}
			if fmt.Sprint(sis) != fmt.Sprint(tc.want) {
				t.Errorf("expired = %v, want %v", sis, tc.want)
			}
		})
	}
	if _, err := s.Expired(ctx, Policy{Mode: "sometimes"}, t0); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestParsePolicy(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		cfg     map[string]string
		enabled bool
		want    Policy
		err     string
	}{
		{"off", nil, false, Policy{Immutable: true, Mutable: true}, ""},
		{"age", map[string]string{"expire.enabled": "True", "expire.mode": "age"}, true, Policy{Mode: ModeAge, Immutable: true, Mutable: true}, ""},
		{"override", map[string]string{"expire.enabled": "true", "expire.mode": "age", "expire.override_lease_duration": "60 days"}, true,
			Policy{Mode: ModeAge, OverrideLeaseDuration: 60 * day, Immutable: true, Mutable: true}, ""},
		{"cutoff", map[string]string{"expire.enabled": "true", "expire.mode": "cutoff-date", "expire.cutoff_date": "2009-01-16", "expire.mutable": "false"}, true,
			Policy{Mode: ModeCutoffDate, CutoffDate: time.Date(2009, 1, 16, 0, 0, 0, 0, time.UTC), Immutable: true}, ""},
		{"no mode", map[string]string{"expire.enabled": "true"}, false, Policy{}, "needs expire.mode"},
		{"bad mode", map[string]string{"expire.mode": "never"}, false, Policy{}, "want \"age\""},
		{"cutoff without date", map[string]string{"expire.mode": "cutoff-date"}, false, Policy{}, "needs expire.cutoff_date"},
		{"override in cutoff mode", map[string]string{"expire.mode": "cutoff-date", "expire.cutoff_date": "2009-01-16", "expire.override_lease_duration": "2mo"}, false, Policy{}, "only valid with expire.mode = age"},
		{"date in age mode", map[string]string{"expire.mode": "age", "expire.cutoff_date": "2009-01-16"}, false, Policy{}, "only valid with expire.mode = cutoff-date"},
		{"bad date", map[string]string{"expire.mode": "cutoff-date", "expire.cutoff_date": "16/01/2009"}, false, Policy{}, "YYYY-MM-DD"},
		{"bad bool", map[string]string{"expire.enabled": "perhaps"}, false, Policy{}, "boolean"},
		{"bad duration", map[string]string{"expire.mode": "age", "expire.override_lease_duration": "3 fortnights"}, false, Policy{}, "duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, enabled, err := ParsePolicy(func(k string) string { return tc.cfg[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePolicy = %v, want an error about %q", err, tc.err)
				}
				return
			}
			must(t, err)
			if enabled != tc.enabled || p != tc.want {
				t.Errorf("ParsePolicy = %+v, %v; want %+v, %v", p, enabled, tc.want, tc.enabled)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"7days": 7 * day, "31day": 31 * day, "60 days": 60 * day, "2mo": 62 * day, "3 month": 93 * day,
		"12 months": 372 * day, "2years": 730 * day, "1 YEAR": 365 * day, "90s": 90 * time.Second, "5 seconds": 5 * time.Second,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "days", "7", "7 weeks", "7h", "-3 days", "1.5 days", "99999999999 years", "400years"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestParseObject(t *testing.T) {
	si := backendtest.SI(9).String()
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, in string
		n        int
		err      string
	}{
		{"empty", header, 0, ""},
		{"lease and forget", header + "L " + si + " i " + h + " 100 200\nF " + si + " 300\n", 2, ""},
		{"no header", "L x\n", 0, "header"},
		{"bad kind", header + "L " + si + " x " + h + " 100 200\n", 0, "kind"},
		{"bad si", header + "L AAAA i " + h + " 100 200\n", 0, "storage index"},
		{"short hash", header + "L " + si + " i abcd 100 200\n", 0, "hex"},
		{"negative time", header + "F " + si + " -1\n", 0, "time"},
		{"extra field", header + "F " + si + " 1 2\n", 0, "malformed"},
		{"long line", header + strings.Repeat("x", 5000) + "\n", 0, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := parseObject([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseObject = %v, want an error about %q", err, tc.err)
				}
				return
			}
			must(t, err)
			if len(recs) != tc.n {
				t.Errorf("%d records, want %d", len(recs), tc.n)
			}
		})
	}
}

// FuzzParseObject: log objects come from the bucket, which others may
// write: the parser must never panic, and what it accepts must round-trip.
func FuzzParseObject(f *testing.F) {
	si := backendtest.SI(9).String()
	f.Add([]byte(header + "L " + si + " i " + strings.Repeat("ab", 32) + " 100 200\nF " + si + " 300\n"))
	f.Add([]byte(header))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseObject(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		buf.WriteString(header)
		for _, r := range recs {
			r.writeTo(&buf)
		}
		again, err := parseObject(buf.Bytes())
		if err != nil || len(again) != len(recs) {
			t.Fatalf("re-encoded object does not parse back: %v", err)
		}
	})
}

func BenchmarkRenew(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, mem.New(mem.Options{}), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := lease(byte(i), byte(i>>8), Immutable, t0)
		l.SI[1] = byte(i >> 16)
		if err := s.Renew(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRebuild10k(b *testing.B) {
	ctx := context.Background()
	m := mem.New(mem.Options{})
	s, err := Open(ctx, m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var batch []Lease
	for i := 0; i < 10000; i++ {
		l := lease(byte(i), 1, Immutable, t0)
		l.SI[1], l.SI[2] = byte(i>>8), 1
		batch = append(batch, l)
	}
	if err := s.Renew(ctx, batch...); err != nil {
		b.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Open(ctx, m, Options{})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTombstoneTTL: Compact drops the records of deletions older than the
// TTL and keeps younger ones.
func TestTombstoneTTL(t *testing.T) {
	ctx := context.Background()
	b := mem.New(mem.Options{})
	now := t0
	s, err := Open(ctx, b, Options{Now: func() time.Time { return now }, TombstoneTTL: 24 * time.Hour})
	must(t, err)
	defer s.Close()
	must(t, s.Forget(ctx, backendtest.SI(1), t0.Add(-48*time.Hour)))
	must(t, s.Forget(ctx, backendtest.SI(2), t0.Add(-time.Hour)))
	must(t, s.Renew(ctx, lease(3, 1, Immutable, t0)))
	must(t, s.Compact(ctx))
	r := open(t, b, "")
	var n int
	must(t, r.db.QueryRowContext(ctx, `SELECT count(*) FROM forgotten`).Scan(&n))
	if n != 1 {
		t.Errorf("%d tombstones after compaction, want 1 (the young one)", n)
	}
	if len(leasesOf(t, r, 3)) != 1 {
		t.Error("compaction lost a lease")
	}
}
