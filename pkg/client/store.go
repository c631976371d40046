package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/filestore"
)

// Store is the direct implementation of filestore.Store: this client
// encodes, encrypts and places shares itself on Kind's servers.
type Store struct {
	Client *Client
	// Kind is the grid the servers form (GridLocal or GridNetwork).
	Kind GridKind
}

var (
	_ filestore.Store    = (*Store)(nil)
	_ filestore.Reporter = (*Store)(nil)
)

// NewStore wraps a client as a file store.
func NewStore(c *Client, kind GridKind) *Store { return &Store{Client: c, Kind: kind} }

// Upload stores an immutable file.
func (s *Store) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	if size < 0 {
		return nil, fmt.Errorf("upload of negative size %d", size)
	}
	res, err := s.Client.Upload(ctx, src, uint64(size), o.Progress)
	if err != nil {
		return nil, mapErr(err)
	}
	return &filestore.UploadResult{
		Cap:     res.Cap,
		Created: res.Uploaded > 0 || res.Kept == 0,
		Placement: &filestore.Placement{
			Happiness: res.Happiness, Shares: res.Placement, Uploaded: res.Uploaded, Kept: res.Kept,
		},
	}, nil
}

// Download writes a file's contents to w, verified.
func (s *Store) Download(ctx context.Context, c *caps.Cap, w io.Writer, o filestore.DownloadOptions) error {
	return mapErr(s.Client.Download(ctx, c, w, o.OnBadShare))
}

// CreateMutable makes a new mutable file.
func (s *Store) CreateMutable(ctx context.Context, data []byte, o filestore.MutableOptions) (*caps.Cap, error) {
	v, err := mutableVersion(o.Format)
	if err != nil {
		return nil, err
	}
	c, err := s.Client.CreateMutable(ctx, data, v, o.Key)
	return c, mapErr(err)
}

// OverwriteMutable publishes a new version of a mutable file.
func (s *Store) OverwriteMutable(ctx context.Context, c *caps.Cap, data []byte) error {
	return mapErr(s.Client.OverwriteMutable(ctx, c, data))
}

// Mkdir creates a directory.
func (s *Store) Mkdir(ctx context.Context, o filestore.MkdirOptions) (*caps.Cap, error) {
	if o.Format == filestore.FormatCHK {
		c, err := s.Client.MkdirImmutable(ctx, o.Children)
		return c, mapErr(err)
	}
	if _, err := mutableVersion(o.Format); err != nil {
		return nil, err
	}
	mdmf := o.Format == filestore.FormatMDMF
	if len(o.Children) == 0 {
		c, err := s.Client.Mkdir(ctx, mdmf)
		return c, mapErr(err)
	}
	c, err := s.Client.MkdirWith(ctx, o.Children, mdmf)
	return c, mapErr(err)
}

// ReadDir lists a directory.
func (s *Store) ReadDir(ctx context.Context, dir *caps.Cap) ([]dirnode.Entry, error) {
	es, err := s.Client.ReadDir(ctx, dir)
	return es, mapErr(err)
}

// Link adds a child to a directory.
func (s *Store) Link(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, replace bool) error {
	return mapErr(s.Client.Link(ctx, dir, name, child, replace))
}

// Unlink removes a child from a directory.
func (s *Store) Unlink(ctx context.Context, dir *caps.Cap, name string) error {
	return mapErr(s.Client.Unlink(ctx, dir, name))
}

// Resolve walks a path of child names.
func (s *Store) Resolve(ctx context.Context, root *caps.Cap, path string) (*caps.Cap, error) {
	c, err := s.Client.Resolve(ctx, root, path)
	return c, mapErr(err)
}

// Close releases the client's servers.
func (s *Store) Close() error {
	s.Client.Close()
	return nil
}

// GridStatus asks every server for its version message, in parallel.
func (s *Store) GridStatus(ctx context.Context, timeout time.Duration) (*filestore.GridStatus, error) {
	servers := s.Client.Servers
	out := &filestore.GridStatus{Kind: string(s.Kind), Servers: make([]filestore.ServerStatus, len(servers))}
	done := make(chan struct{}, len(servers))
	for i, srv := range servers {
		go func() {
			defer func() { done <- struct{}{} }()
			st := filestore.ServerStatus{ID: srv.ID, Nickname: srv.Nickname, Address: srv.Addr}
			qctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			v, err := srv.Storage.Version(qctx)
			if err != nil {
				st.Error = err.Error()
			} else {
				space := v.AvailableSpace
				st.Reachable, st.AvailableSpace, st.Version = true, &space, string(v.ApplicationVersion)
			}
			out.Servers[i] = st
		}()
	}
	for range servers {
		<-done
	}
	sort.SliceStable(out.Servers, func(a, b int) bool {
		if out.Servers[a].Nickname != out.Servers[b].Nickname {
			return out.Servers[a].Nickname < out.Servers[b].Nickname
		}
		return out.Servers[a].ID < out.Servers[b].ID
	})
	return out, ctx.Err()
}

func mutableVersion(f filestore.Format) (int, error) {
	switch f {
	case filestore.FormatDefault, filestore.FormatSDMF:
		return mutable.VersionSDMF, nil
	case filestore.FormatMDMF:
		return mutable.VersionMDMF, nil
	}
	return 0, fmt.Errorf("a mutable file or directory cannot be %s", f)
}

// mapErr makes the client's errors match filestore's sentinels as well.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct{ from, to error }{
		{mutable.ErrReadOnly, filestore.ErrReadOnly},
		{mutable.ErrUncoordinated, filestore.ErrUncoordinated},
	} {
		if errors.Is(err, m.from) && !errors.Is(err, m.to) {
			return &mappedError{err: err, also: m.to}
		}
	}
	return err
}

// mappedError is err that also matches another sentinel.
type mappedError struct{ err, also error }

func (e *mappedError) Error() string   { return e.err.Error() }
func (e *mappedError) Unwrap() []error { return []error{e.err, e.also} }
