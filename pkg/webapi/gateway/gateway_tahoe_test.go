package gateway_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/filestore/filestoretest"
	"github.com/lafs/lafs/pkg/webapi/gateway"
)

// tahoeNode returns the web API of a real Tahoe-LAFS node named by
// LAFS_TAHOE_NODE_URL, and its node directory from LAFS_TAHOE_NODE_DIR
// (optional); the test is skipped when there is none (CI has no Tahoe).
func tahoeNode(t *testing.T) *gateway.Store {
	t.Helper()
	u := os.Getenv("LAFS_TAHOE_NODE_URL")
	if u == "" {
		t.Skip("LAFS_TAHOE_NODE_URL is not set: no real Tahoe-LAFS node to test against")
	}
	s := gateway.New(u, gateway.Options{NodeDir: os.Getenv("LAFS_TAHOE_NODE_DIR"), Timeout: time.Minute})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTahoeConformance holds the gateway to the filestore contract over a
// real Tahoe-LAFS node: every Store method, and the Reporter.
func TestTahoeConformance(t *testing.T) {
	filestoretest.StoreConformance(t, tahoeNode(t))
}

// TestTahoeExtras covers what the gateway adds beyond the Store
// interface, against a real node.
func TestTahoeExtras(t *testing.T) {
	s := tahoeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := s.Mkdir(ctx, filestore.MkdirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lit := caps.NewLIT([]byte("hello"))
	if err := s.Link(ctx, root, "hi", lit, false); err != nil {
		t.Fatal(err)
	}
	n, err := s.Stat(ctx, root, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if n.Type != gateway.TypeFile || n.Size == nil || *n.Size != 5 || n.ROURI != lit.String() || n.Metadata == nil {
		t.Errorf("Stat(hi) = %+v", n)
	}
	raw, err := s.RawJSON(ctx, root, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "[") || !strings.Contains(string(raw), `"dirnode"`) {
		t.Errorf("RawJSON: %q", raw)
	}
	w, err := s.Welcome(ctx)
	if err != nil || len(w.Servers) == 0 {
		t.Fatalf("Welcome: %+v, %v", w, err)
	}
	if os.Getenv("LAFS_TAHOE_NODE_DIR") != "" {
		for _, page := range []string{"status", "statistics"} {
			b, err := s.TokenJSON(ctx, page)
			if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
				t.Errorf("TokenJSON(%s) = %.40q, %v", page, b, err)
			}
		}
	}
	// Tahoe's own error text comes through, and maps to the sentinel.
	_, err = s.Resolve(ctx, root, "nope")
	var se *gateway.StatusError
	if !errors.As(err, &se) || se.Code != 404 || !strings.Contains(se.Message, "No such child: nope") || !errors.Is(err, filestore.ErrNotFound) {
		t.Errorf("Resolve(nope): %#v", err)
	}
	if strings.Contains(err.Error(), root.String()) {
		t.Errorf("the error quotes the cap: %v", err)
	}
}
