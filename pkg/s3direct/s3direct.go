// Package s3direct is direct-to-S3 for one person's use: a servers.yaml
// entry with a lafs-s3 block (nodedir.S3Direct) is served in process by a
// share store (pkg/storage/shares) over the S3 backend
// (pkg/storage/backend/s3), so the client writes share containers straight
// into the bucket, in the layout and with the bytes a storage node with
// [storage] backend = cloud.s3 on the same bucket and prefix writes and
// serves.
//
// There is no accounting and no garbage collection: no lease log is kept
// (the containers carry the lease they were created with), so nothing
// expires, and nothing limits what is stored. The package owns only the
// wiring; pkg/lafs uses it when it opens a node directory.
package s3direct

import (
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/backend/s3"
	"github.com/lafs/lafs/pkg/storage/shares"
)

// Config is the S3 configuration of a direct entry, with its secret read
// from the node directory.
func Config(node *nodedir.Node, e nodedir.Server) (s3.Config, error) {
	if e.S3 == nil {
		return s3.Config{}, fmt.Errorf("server %s has no lafs-s3 block", e.ID)
	}
	secret, err := node.S3Secret(*e.S3)
	if err != nil {
		return s3.Config{}, fmt.Errorf("server %s: %w", e.ID, err)
	}
	cfg := s3.Config{
		URL:             e.S3.URL,
		Region:          e.S3.Region,
		Bucket:          e.S3.Bucket,
		Prefix:          e.S3.Prefix,
		AccessKeyID:     e.S3.AccessKeyID,
		SecretAccessKey: secret,
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("server %s: %w", e.ID, err)
	}
	return cfg, nil
}

// Open serves one direct entry: a share store over its bucket and prefix,
// recording the entry's lease seed as the node id in mutable containers
// (as the storage node whose identity the entry carries would). Close the
// returned server to release both.
func Open(node *nodedir.Node, e nodedir.Server) (storage.Server, error) {
	cfg, err := Config(node, e)
	if err != nil {
		return nil, err
	}
	b, err := s3.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", e.ID, err)
	}
	var id [20]byte
	copy(id[:], e.LeaseSeed)
	st := shares.New(b, shares.Options{NodeID: id, ApplicationVersion: "lafs direct-to-S3"})
	return &server{Store: st, b: b}, nil
}

// server is a share store that owns its backend.
type server struct {
	*shares.Store
	b *s3.Backend
}

// Close releases the store and the backend.
func (s *server) Close() error { return errors.Join(s.Store.Close(), s.b.Close()) }
