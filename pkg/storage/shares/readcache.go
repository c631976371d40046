package shares

import (
	"container/list"
	"errors"
	"sync"

	"github.com/lafs/lafs/pkg/storage/backend"
)

// readerCache keeps a few open read handles of complete immutable shares,
// least recently used first out, so that a download's many block reads do
// not each open the container and parse its header. Immutable share data
// never changes, so a cached handle stays right until the share is removed
// (invalidate). Handles are reference counted: eviction closes a handle
// only once its last user is done.
type readerCache struct {
	capacity int

	mu  sync.Mutex
	m   map[uploadKey]*cachedShare
	lru list.List // of *cachedShare, most recent at the front
}

// cachedShare is an open immutable share; it implements storage.ShareData
// over the share's data.
type cachedShare struct {
	cache *readerCache
	key   uploadKey
	r     backend.Reader
	c     *immutableShare
	refs  int // users, plus one while cached
	elem  *list.Element
}

func newReaderCache(capacity int) *readerCache {
	return &readerCache{capacity: capacity, m: map[uploadKey]*cachedShare{}}
}

// get returns the cached handle for key, referenced, or nil.
func (rc *readerCache) get(key uploadKey) *cachedShare {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	h := rc.m[key]
	if h == nil {
		return nil
	}
	h.refs++
	rc.lru.MoveToFront(h.elem)
	return h
}

// add wraps a freshly opened share, caching it when there is room (or a
// colder handle to evict), and returns it referenced once for the caller.
func (rc *readerCache) add(key uploadKey, r backend.Reader, c *immutableShare) *cachedShare {
	h := &cachedShare{cache: rc, key: key, r: r, c: c, refs: 1}
	if rc.capacity == 0 {
		return h
	}
	var evicted []*cachedShare
	rc.mu.Lock()
	if _, dup := rc.m[key]; !dup {
		h.refs++
		h.elem = rc.lru.PushFront(h)
		rc.m[key] = h
		for rc.lru.Len() > rc.capacity {
			old := rc.lru.Remove(rc.lru.Back()).(*cachedShare)
			delete(rc.m, old.key)
			old.elem = nil
			evicted = append(evicted, old)
		}
	}
	rc.mu.Unlock()
	for _, old := range evicted {
		old.Close()
	}
	return h
}

// invalidate drops the cached handle of key (its users keep theirs).
func (rc *readerCache) invalidate(key uploadKey) {
	rc.mu.Lock()
	h := rc.m[key]
	if h != nil {
		delete(rc.m, key)
		rc.lru.Remove(h.elem)
		h.elem = nil
	}
	rc.mu.Unlock()
	if h != nil {
		h.Close()
	}
}

// closeAll drops every cached handle.
func (rc *readerCache) closeAll() error {
	rc.mu.Lock()
	var all []*cachedShare
	for k, h := range rc.m {
		delete(rc.m, k)
		rc.lru.Remove(h.elem)
		h.elem = nil
		all = append(all, h)
	}
	rc.mu.Unlock()
	var errs []error
	for _, h := range all {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}

// ReadAt reads share data at off (io.ReaderAt semantics).
func (h *cachedShare) ReadAt(p []byte, off int64) (int, error) { return h.c.ReadData(p, off) }

// Size is the length of the share data.
func (h *cachedShare) Size() int64 { return h.c.dataLen }

// Close releases the caller's reference; the handle closes when unused
// and no longer cached.
func (h *cachedShare) Close() error {
	h.cache.mu.Lock()
	h.refs--
	last := h.refs == 0
	h.cache.mu.Unlock()
	if last {
		return h.r.Close()
	}
	return nil
}
