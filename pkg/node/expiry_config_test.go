package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/node"
	"github.com/lafs/lafs/pkg/storage/expiry"
)

// TestReadNodeConfigExpiry: the node reads every expire.* setting of
// Tahoe's garbage-collection configuration.
func TestReadNodeConfigExpiry(t *testing.T) {
	for _, tc := range []struct {
		storage string
		want    expiry.Policy
		err     string
	}{
		{storage: "#expire.enabled =\n#expire.mode =\n", want: expiry.Policy{Mode: expiry.ModeAge, Immutable: true, Mutable: true}},
		{storage: "expire.enabled = true\nexpire.mode = age\nexpire.override_lease_duration = 2 days\n",
			want: expiry.Policy{Enabled: true, Mode: expiry.ModeAge, OverrideLeaseDuration: 48 * time.Hour, Immutable: true, Mutable: true}},
		{storage: "expire.enabled = true\nexpire.mode = cutoff-date\nexpire.cutoff_date = 2026-11-30\nexpire.mutable = false\n",
			want: expiry.Policy{Enabled: true, Mode: expiry.ModeCutoffDate, CutoffDate: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Immutable: true}},
		{storage: "expire.enabled = true\n", err: "expire.mode must be set"},
	} {
		dir := t.TempDir()
		cfg := "[node]\nnickname = n\n\n[storage]\nenabled = true\n" + tc.storage
		if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		nc, err := node.ReadNodeConfig(dir)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.storage, err, tc.err)
			}
			continue
		}
		if err != nil || nc.Expiry != tc.want || nc.ExpireEnabled != tc.want.Enabled {
			t.Errorf("%q: %+v %v, want %+v", tc.storage, nc.Expiry, err, tc.want)
		}
	}
}
