package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/health"
)

// maxStreamLine bounds one line of a deep operation's stream (a check's
// results with a large sharemap stay far below it).
const maxStreamLine = 16 << 20

// stream POSTs a streaming deep operation and hands each line to line,
// as the node sends it. Only ctx bounds it.
func (s *Store) stream(ctx context.Context, op string, root *caps.Cap, query string, line func([]byte) error) error {
	resp, cancel, err := s.do(ctx, request{op: op, method: "POST", path: capPath(root.String()), query: query, size: -1, stream: true})
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxStreamLine)
	for sc.Scan() {
		if err := line(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: reading the node's stream: %w", op, stripURL(err))
	}
	return nil
}

// StreamDeepCheck runs t=stream-deep-check (with repair=, verify=,
// add-lease=) on the node and hands each line of its answer to line: one
// JSON object per object checked, a stats line, or an "ERROR:" line.
func (s *Store) StreamDeepCheck(ctx context.Context, root *caps.Cap, o health.CheckOptions, repair bool, line func([]byte) error) error {
	q := "t=stream-deep-check"
	if o.Verify {
		q += "&verify=true"
	}
	if repair {
		q += "&repair=true"
	}
	if o.AddLease {
		q += "&add-lease=true"
	}
	return s.stream(ctx, "deep-check", root, q, line)
}

// StreamManifest runs t=stream-manifest on the node and hands each line of
// its answer to line.
func (s *Store) StreamManifest(ctx context.Context, root *caps.Cap, line func([]byte) error) error {
	return s.stream(ctx, "manifest", root, "t=stream-manifest", line)
}

// DeepStats runs t=start-deep-stats under a fresh operation handle and
// polls the handle until the operation finishes, as Tahoe's `tahoe stats`
// does; it returns the finished status JSON as the node wrote it.
func (s *Store) DeepStats(ctx context.Context, root *caps.Cap) ([]byte, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	handle := caps.Base32Encode(raw)
	if _, err := s.call(ctx, request{op: "stats", method: "POST", path: capPath(root.String()), query: "t=start-deep-stats&ophandle=" + handle, size: -1}, maxCheckJSON); err != nil {
		// Tahoe answers a started operation with a redirect to its handle.
		var se *StatusError
		if !errors.As(err, &se) || se.Code != http.StatusFound {
			return nil, err
		}
	}
	wait := 100 * time.Millisecond
	for {
		body, err := s.call(ctx, request{op: "stats", method: "GET", path: "operations/" + handle, query: "t=status&output=JSON&release-after-complete=true", size: -1}, maxCheckJSON)
		if err != nil {
			return nil, err
		}
		var st struct {
			Finished bool `json:"finished"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			return nil, fmt.Errorf("stats: the node's status is not JSON: %w", err)
		}
		if st.Finished {
			return bytes.TrimRight(body, "\n"), nil
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}
