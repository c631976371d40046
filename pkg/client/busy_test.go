package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
)

// stallShares makes another upload (a foreign upload secret that never
// writes) hold the given shares of data's storage index on every server,
// and returns a function that abandons them.
func stallShares(t *testing.T, c *Client, data []byte, shares []int) func() {
	t.Helper()
	ctx := context.Background()
	key, err := chk.Key(ctx, bytes.NewReader(data), uint64(len(data)), c.params())
	if err != nil {
		t.Fatal(err)
	}
	_, _, alloc, err := chk.Plan(uint64(len(data)), c.params())
	if err != nil {
		t.Fatal(err)
	}
	si, _ := toSI(caps.StorageIndexCHK(key))
	secret := bytes.Repeat([]byte{9}, 32)
	for _, s := range c.Servers {
		ar, err := s.Storage.AllocateBuckets(ctx, si, storage.LeaseSecrets{}, secret, shares, alloc)
		if err != nil || len(ar.Allocated) != len(shares) {
			t.Fatalf("stall: %+v %v", ar, err)
		}
	}
	return func() {
		for _, s := range c.Servers {
			for _, sh := range shares {
				if err := s.Storage.AbortUpload(ctx, si, sh, secret); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// Shares another upload is writing are busy: the uploader waits for them
// (bounded) instead of counting their servers as failed or read-only.
func TestBusyShares(t *testing.T) {
	enc := nodedir.Encoding{Needed: 2, Happy: 4, Total: 5, MaxSegmentSize: 64 << 10}
	data := testData(150_000)
	all := []int{0, 1, 2, 3, 4}

	t.Run("happy without them: no wait", func(t *testing.T) {
		c := localClient(t, 5, enc)
		c.BusyWait = time.Minute
		stallShares(t, c, data, []int{3})
		start := time.Now()
		r, err := c.Upload(context.Background(), bytes.NewReader(data), uint64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %v: waited for a busy share it did not need", d)
		}
		if r.Happiness != 4 || r.Uploaded != 4 {
			t.Errorf("happiness %d, uploaded %d; want 4 and 4", r.Happiness, r.Uploaded)
		}
	})

	t.Run("the other upload gives up: written here", func(t *testing.T) {
		c := localClient(t, 5, enc)
		c.BusyWait = time.Minute
		release := stallShares(t, c, data, all)
		timer := time.AfterFunc(300*time.Millisecond, release)
		defer timer.Stop()
		r, err := c.Upload(context.Background(), bytes.NewReader(data), uint64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Happiness != 5 || r.Uploaded != 5 {
			t.Errorf("happiness %d, uploaded %d; want 5 and 5", r.Happiness, r.Uploaded)
		}
		var out bytes.Buffer
		if err := c.Download(context.Background(), r.Cap, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("read back: %v", err)
		}
	})

	t.Run("never finished: bounded by BusyWait", func(t *testing.T) {
		c := localClient(t, 5, enc)
		c.BusyWait = 500 * time.Millisecond
		stallShares(t, c, data, all)
		start := time.Now()
		_, err := c.Upload(context.Background(), bytes.NewReader(data), uint64(len(data)), nil)
		var ue *UnhappinessError
		if !errors.As(err, &ue) {
			t.Fatalf("error %v, want an UnhappinessError", err)
		}
		if ue.ReadOnly != 0 || ue.Reachable != 5 {
			t.Errorf("reachable %d, read-only %d; want 5 and 0 (busy is neither failed nor read-only)", ue.Reachable, ue.ReadOnly)
		}
		if !strings.Contains(err.Error(), "still being written by another upload") {
			t.Errorf("error does not say the shares are busy: %v", err)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 20*time.Second {
			t.Errorf("gave up after %v, want about the busy wait", d)
		}
	})

	t.Run("never finished: bounded by the context", func(t *testing.T) {
		c := localClient(t, 5, enc)
		c.BusyWait = time.Hour
		stallShares(t, c, data, all)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
		if err == nil {
			t.Fatal("upload succeeded with every share busy")
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("gave up after %v, past the context's deadline", d)
		}
	})
}
