package backend

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/lafs/lafs/pkg/storage"
)

// This file holds what every implementation does the same way: argument
// checks, the layout of share names, and the in-process lock table.

// CheckShare is the check every share operation of a Backend starts with:
// ctx is not done and shnum is in range (ValidShareNumber).
func CheckShare(ctx context.Context, shnum int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ValidShareNumber(shnum) {
		return fmt.Errorf("share number %d out of range", shnum)
	}
	return nil
}

// CheckAuxKey is the check PutAux, GetAux and DeleteAux start with: ctx
// is not done and key is well formed (ValidAuxKey).
func CheckAuxKey(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ValidAuxKey(key) {
		return fmt.Errorf("auxiliary object key %q is not valid", key)
	}
	return nil
}

// CheckWriteAt is the check of Writer.WriteAt: done (committed or closed)
// is ErrClosed, and a negative offset is an error.
func CheckWriteAt(done bool, off int64) error {
	if done {
		return fmt.Errorf("write after commit or close: %w", ErrClosed)
	}
	if off < 0 {
		return fmt.Errorf("negative offset %d", off)
	}
	return nil
}

// ParseShareNumber reads the name a container has in the layout Tahoe
// writes (and every backend here follows): decimal, no sign, no leading
// zeros beyond "0", at most MaxShareNumber.
func ParseShareNumber(name string) (int, bool) {
	if name == "" || len(name) > 3 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || n > MaxShareNumber {
		return 0, false
	}
	return n, true
}

// BucketPath is the slash-separated place of si's containers in Tahoe's
// layout, relative to the shares directory: the first two characters of
// the storage index, then the whole of it ("ab/abcd...").
func BucketPath(si storage.StorageIndex) string {
	s := si.String()
	return s[:2] + "/" + s
}

// ParseBucket reads the two names of a bucket in Tahoe's layout (see
// BucketPath): prefix, the first two characters, and name, the storage
// index. Anything else (a stray file, a storage index under the wrong
// prefix) is not a bucket.
func ParseBucket(prefix, name string) (storage.StorageIndex, bool) {
	if len(prefix) != 2 {
		return storage.StorageIndex{}, false
	}
	si, err := storage.ParseStorageIndex(name)
	if err != nil || name[:2] != prefix {
		return storage.StorageIndex{}, false
	}
	return si, true
}

// Locks is the in-process half of Backend.Lock: one lock per storage
// index, waited for until ctx is done. The zero value is ready to use; a
// Locks must not be copied after first use.
type Locks struct {
	mu   sync.Mutex
	held map[storage.StorageIndex]chan struct{}
}

// Lock takes si's lock, waiting while another holder has it. The unlock
// function it returns may be called more than once; only the first call
// counts.
func (l *Locks) Lock(ctx context.Context, si storage.StorageIndex) (unlock func(), err error) {
	for {
		l.mu.Lock()
		ch, held := l.held[si]
		if !held {
			if l.held == nil {
				l.held = map[storage.StorageIndex]chan struct{}{}
			}
			ch = make(chan struct{})
			l.held[si] = ch
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.held, si)
					l.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", si, ctx.Err())
		}
	}
}
