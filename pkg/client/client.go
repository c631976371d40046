package client

import (
	"context"
	"log/slog"
	"time"

	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Defaults of the Client's timeouts.
const (
	// DefaultQueryTimeout bounds one question to one server: a version or
	// share-list query, a lease renewal, an allocation, a mutable header
	// read. Short, so that one server that accepts connections and never
	// answers costs at most this much.
	DefaultQueryTimeout = 5 * time.Second
	// DefaultTransferTimeout bounds one chunk read or write (up to
	// ChunkSize bytes, or one block).
	DefaultTransferTimeout = 60 * time.Second
	// DefaultGrace is how long slower servers still get once enough of
	// them have answered (k shares located, or k shares of the newest
	// mutable version seen).
	DefaultGrace = 250 * time.Millisecond
	// DefaultBusyWait is how long an upload waits, at most, for shares
	// that another upload of the same file is writing on a server to
	// complete there (so that they count as held).
	DefaultBusyWait = 2 * time.Minute
)

// Client uploads and downloads files on a grid of storage servers (the
// "direct" implementation of the file store).
type Client struct {
	Servers     []Server
	Encoding    nodedir.Encoding
	Convergence []byte // convergence secret (private/convergence)
	LeaseSecret []byte // client base secret (private/secret)
	// Logger receives debug records; discarded when nil.
	Logger *slog.Logger
	// QueryTimeout bounds each question to a server (DefaultQueryTimeout
	// when 0).
	QueryTimeout time.Duration
	// TransferTimeout bounds each chunk written to or block read from a
	// server (DefaultTransferTimeout when 0).
	TransferTimeout time.Duration
	// Grace is how long slower servers still get once enough have answered
	// (DefaultGrace when 0; negative for none).
	Grace time.Duration
	// ChunkSize is the size of the writes sent to servers (default
	// DefaultChunkSize).
	ChunkSize int
	// BusyWait bounds the wait of an upload for shares another upload is
	// writing at the same time (DefaultBusyWait when 0); the context's
	// deadline bounds it too.
	BusyWait time.Duration
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) params() chk.Params {
	return chk.Params{Needed: c.Encoding.Needed, Total: c.Encoding.Total, MaxSegmentSize: c.Encoding.MaxSegmentSize, Convergence: c.Convergence}
}

func (c *Client) timeout() time.Duration {
	if c.QueryTimeout > 0 {
		return c.QueryTimeout
	}
	return DefaultQueryTimeout
}

func (c *Client) transferTimeout() time.Duration {
	if c.TransferTimeout > 0 {
		return c.TransferTimeout
	}
	return DefaultTransferTimeout
}

func (c *Client) grace() time.Duration {
	switch {
	case c.Grace < 0:
		return 0
	case c.Grace == 0:
		return DefaultGrace
	}
	return c.Grace
}

func (c *Client) busyWait() time.Duration {
	if c.BusyWait > 0 {
		return c.BusyWait
	}
	return DefaultBusyWait
}

func (c *Client) chunkSize() int {
	if c.ChunkSize > 0 {
		return c.ChunkSize
	}
	return DefaultChunkSize
}

// forEachServer asks every server at once, each call bounded by the query
// timeout, and waits for all of them. It is the client's one fan-out.
func forEachServer[T any](ctx context.Context, c *Client, servers []Server, ask func(ctx context.Context, s Server) (T, error)) []fanout.Result[T] {
	return fanout.Ask(ctx, len(servers), fanout.Options{Timeout: c.timeout()}, func(ctx context.Context, i int) (T, error) {
		return ask(ctx, servers[i])
	}, nil)
}
