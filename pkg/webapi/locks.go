package webapi

import (
	"context"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
)

// objectLocks serializes this node's own writes to each mutable object
// (directory or mutable file), as Tahoe does: two requests changing one
// directory at once must not become uncoordinated writes of the same
// node, which can lose an update or leave shares of mixed versions.
type objectLocks struct {
	mu sync.Mutex
	m  map[string]*objectLock
}

type objectLock struct {
	sem  chan struct{}
	refs int
}

// lock waits for the object of c (by storage index) to be free, or for
// ctx to end, and returns the function that frees it.
func (l *objectLocks) lock(ctx context.Context, c *caps.Cap) (func(), error) {
	key := string(c.StorageIndex)
	if key == "" {
		key = c.String()
	}
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*objectLock{}
	}
	e, ok := l.m[key]
	if !ok {
		e = &objectLock{sem: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
	return func() {
		<-e.sem
		release()
	}, nil
}
