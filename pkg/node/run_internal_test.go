package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage/expiry"
	"github.com/lafs/lafs/pkg/storage/gbsserver"
	"github.com/lafs/lafs/pkg/storage/shares"
)

func TestParseTubPort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp:3457", ":3457"},
		{"tcp:3457:interface=127.0.0.1", "127.0.0.1:3457"},
		{"tcp:port=3457:interface=127.0.0.1", "127.0.0.1:3457"},
		{"tcp:interface=127.0.0.1:port=3457", "127.0.0.1:3457"},
		{"tcp:3457,tcp:3458", ":3457"},
		{"tor:3457", ""},
		{"tcp:x", ""},
		{"tcp:3457:bogus=1", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTubPort(tc.in)
			if (err != nil) != (tc.want == "") || got != tc.want {
				t.Fatalf("parseTubPort(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

// TestRunNodeJoinsMaintenance: when serving fails early, RunNode returns
// only after its maintenance goroutine has stopped, so nothing touches the
// store or the lease database after they are closed.
func TestRunNodeJoinsMaintenance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := NewNodeOptions()
	opts.Hostname = "127.0.0.1"
	opts.WebPort = "none"
	if err := CreateNode(dir, opts); err != nil {
		t.Fatal(err)
	}
	var ticks atomic.Int64
	var exited atomic.Bool
	started := make(chan struct{})
	boom := errors.New("listener broke")
	err := runNode(context.Background(), dir, slog.New(slog.DiscardHandler), runHooks{
		serve: func(ctx context.Context, ln net.Listener, h *gbsserver.Server, id *Identity) error {
			<-started
			return boom
		},
		maintain: func(ctx context.Context, store *shares.Store, _ expiry.Policy, logger *slog.Logger, every maintenanceIntervals) {
			close(started)
			for ctx.Err() == nil {
				store.AbortIdleUploads(time.Minute) // uses the store until told to stop
				ticks.Add(1)
				time.Sleep(time.Millisecond)
			}
			// Slow to wind down: an unjoined goroutine would still be here
			// when RunNode returns.
			time.Sleep(50 * time.Millisecond)
			exited.Store(true)
		},
		every: maintenanceIntervals{idle: time.Millisecond, expire: time.Millisecond},
	})
	if !errors.Is(err, boom) {
		t.Fatalf("runNode = %v, want the serving error", err)
	}
	if !exited.Load() {
		t.Fatal("runNode returned while its maintenance goroutine was still running")
	}
	if ticks.Load() == 0 {
		t.Fatal("maintenance never ran")
	}
}

// TestMaintainStops: the real maintenance loop returns when its context
// ends, even with fast tickers and expiry enabled.
func TestMaintainStops(t *testing.T) {
	store, err := shares.OpenDisk(t.TempDir(), shares.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() {
		maintain(ctx, store, expiry.Policy{Enabled: true, Mode: expiry.ModeAge, Immutable: true, Mutable: true}, slog.New(slog.DiscardHandler), maintenanceIntervals{idle: time.Millisecond, expire: time.Millisecond})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("maintain did not stop")
	}
}
