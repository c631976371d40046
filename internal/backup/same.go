package backup

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
)

// Files that may hold the same bytes upload one after another. Two
// uploads of one content at once race for the same shares (convergent
// encoding gives them one storage index): a Tahoe-LAFS node's servers
// report the other's shares as neither held nor allocatable, and the
// node fails the second upload with UploadUnhappinessError ("placed 0
// shares"). Tahoe's own backup uploads one file at a time, so it never
// meets this; a window of uploads must keep identical files apart.

// sameFullHash is the size up to which a file's key hashes all of it;
// above, the first and last sameEdge bytes (identical files still share a
// key, and different ones of one size rarely do: when they do, they only
// wait for each other).
const (
	sameFullHash = 1 << 20
	sameEdge     = 64 << 10
)

// sameKey names what a file may share with another: its size and a hash.
type sameKey struct {
	size int64
	sum  [sha256.Size]byte
}

// keyOf reads f (size bytes) for its key.
func keyOf(f io.ReaderAt, size int64) (sameKey, error) {
	h := sha256.New()
	var err error
	if size <= sameFullHash {
		_, err = io.Copy(h, io.NewSectionReader(f, 0, size))
	} else if _, err = io.Copy(h, io.NewSectionReader(f, 0, sameEdge)); err == nil {
		_, err = io.Copy(h, io.NewSectionReader(f, size-sameEdge, sameEdge))
	}
	if err != nil {
		return sameKey{}, fmt.Errorf("reading for the upload: %w", err)
	}
	k := sameKey{size: size}
	h.Sum(k.sum[:0])
	return k, nil
}

// sameLocks lets one holder of a key at a time through.
type sameLocks struct {
	mu sync.Mutex
	m  map[sameKey]*sameLock
}

type sameLock struct {
	sem   chan struct{} // one slot: held by the upload running
	users int           // holders and waiters, under sameLocks.mu
}

// lock waits until no other upload of key runs (or ctx ends) and returns
// the function that lets the next one through.
func (l *sameLocks) lock(ctx context.Context, key sameKey) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[sameKey]*sameLock{}
	}
	k := l.m[key]
	if k == nil {
		k = &sameLock{sem: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.users++
	l.mu.Unlock()
	drop := func() {
		l.mu.Lock()
		if k.users--; k.users == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	return func() {
		<-k.sem
		drop()
	}, nil
}
