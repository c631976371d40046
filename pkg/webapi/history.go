package webapi

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// Kinds of recorded operation: the "type" of an entry of /status?t=json.
const (
	opUpload    = "upload"
	opDownload  = "download"
	opPublish   = "publish"
	opRetrieve  = "retrieve"
	opMapupdate = "mapupdate"
)

// historyLimits is how many operations of each kind the node keeps once
// they are over (Tahoe's History: 10 uploads and downloads, 20 mapupdates
// and publishes, 40 retrieves). Active operations are kept until they end
// whatever their number: each is a request in flight.
var historyLimits = map[string]int{
	opUpload: 10, opDownload: 10, opMapupdate: 20, opPublish: 20, opRetrieve: 40,
}

// Servermap modes, as Tahoe names them.
const (
	modeRead  = "MODE_READ"
	modeWrite = "MODE_WRITE"
)

// opStatus is one operation as /status reports it. Its fields are
// guarded by the history's lock.
type opStatus struct {
	kind    string
	seq     uint64
	started time.Time
	si      []byte // nil until known
	size    int64  // -1: unknown
	status  string
	active  bool
	// progress: an upload's hash, ciphertext and encode+push fractions;
	// a download's fraction in progress[0].
	progress [3]float64
	mode     string // mapupdate only
}

// history is the node's record of its recent and active operations
// (Tahoe's allmydata.history), bounded per kind.
type history struct {
	now    func() time.Time
	mu     sync.Mutex
	seq    uint64
	recent map[string][]*opStatus
	active map[*opStatus]struct{}
}

func newHistory(now func() time.Time) *history {
	return &history{now: now, recent: map[string][]*opStatus{}, active: map[*opStatus]struct{}{}}
}

// begin records a new, active operation.
func (h *history) begin(kind string, si []byte, size int64, status string) *opStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	op := &opStatus{kind: kind, seq: h.seq, started: h.now(), si: si, size: size, status: status, active: true}
	h.active[op] = struct{}{}
	list := append(h.recent[kind], op)
	if n := len(list) - historyLimits[kind]; n > 0 {
		list = append(list[:0:0], list[n:]...)
	}
	h.recent[kind] = list
	return op
}

// update changes an operation under the lock.
func (h *history) update(op *opStatus, f func(*opStatus)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(op)
}

// finish ends an operation: "Finished" (a download: "idle", as Tahoe's
// downloader says once nothing is outstanding) on success, "Failed"
// otherwise.
func (h *history) finish(op *opStatus, si []byte, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if si != nil {
		op.si = si
	}
	op.active = false
	delete(h.active, op)
	switch {
	case err != nil:
		op.status = "Failed"
	case op.kind == opDownload:
		op.status = "idle"
		op.progress[0] = 1
	default:
		op.status = "Finished"
		op.progress = [3]float64{1, 1, 1}
	}
}

// snapshot returns the active and the finished operations, newest first
// (Tahoe's order: by start time, reversed).
func (h *history) snapshot() (active, recent []opStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[*opStatus]bool{}
	for _, list := range h.recent {
		for _, op := range list {
			seen[op] = true
			if op.active {
				active = append(active, *op)
			} else {
				recent = append(recent, *op)
			}
		}
	}
	for op := range h.active {
		if !seen[op] {
			active = append(active, *op)
		}
	}
	newestFirst := func(ops []opStatus) {
		sort.Slice(ops, func(i, j int) bool {
			if !ops[i].started.Equal(ops[j].started) {
				return ops[i].started.After(ops[j].started)
			}
			return ops[i].seq > ops[j].seq
		})
	}
	newestFirst(active)
	newestFirst(recent)
	return active, recent
}

// json is the operation as an entry of /status?t=json (Tahoe's
// marshal_json: the common fields, then the kind's own).
func (op *opStatus) json() *pyjson.Dict {
	d := pyjson.NewDict()
	if op.si != nil {
		d.Set("storage-index-string", caps.Base32Encode(op.si))
	} else {
		d.Set("storage-index-string", nil)
	}
	switch {
	case op.kind == opMapupdate:
		d.Set("total-size", "-NA-")
	case op.size < 0:
		d.Set("total-size", nil)
	default:
		d.Set("total-size", op.size)
	}
	d.Set("status", op.status).Set("type", op.kind)
	switch op.kind {
	case opUpload:
		d.Set("progress-hash", op.progress[0]).Set("progress-ciphertext", op.progress[1]).Set("progress-encode-push", op.progress[2])
	case opDownload:
		d.Set("progress", op.progress[0])
	case opMapupdate:
		d.Set("mode", op.mode)
	}
	return d
}

// recordingStore is the node's store with every operation Tahoe's
// History would list recorded in h: immutable uploads and downloads (not
// of literal files, which touch no server), mutable publishes, retrieves
// and the servermap updates before them, directory reads and writes as
// the mutable (or immutable) operations they are.
type recordingStore struct {
	filestore.Store
	h *history
}

// recordingModifier is a recordingStore over a store that modifies
// directories in one read-modify-write.
type recordingModifier struct {
	*recordingStore
	dm filestore.DirModifier
}

// wrap returns st recording into h, keeping st's DirModifier.
func (h *history) wrap(st filestore.Store) filestore.Store {
	r := &recordingStore{Store: st, h: h}
	if dm, ok := st.(filestore.DirModifier); ok {
		return &recordingModifier{recordingStore: r, dm: dm}
	}
	return r
}

// storageIndex is c's storage index (nil for a literal cap).
func storageIndex(c *caps.Cap) []byte {
	if c == nil || len(c.StorageIndex) == 0 {
		return nil
	}
	return c.StorageIndex
}

// Upload records an upload (none for a literal file).
func (r *recordingStore) Upload(ctx context.Context, src io.ReaderAt, size int64, o filestore.UploadOptions) (*filestore.UploadResult, error) {
	if size <= chk.LITMax {
		return r.Store.Upload(ctx, src, size, o)
	}
	op := r.h.begin(opUpload, nil, size, "Encoding and pushing")
	inner := o.Progress
	o.Progress = func(done int64) {
		// The convergent key is hashed from the whole file before the
		// first block is encoded, so any progress means hashing is done.
		f := float64(done) / float64(size)
		r.h.update(op, func(op *opStatus) { op.progress = [3]float64{1, f, f} })
		if inner != nil {
			inner(done)
		}
	}
	res, err := r.Store.Upload(ctx, src, size, o)
	var si []byte
	if err == nil && res != nil {
		si = storageIndex(res.Cap)
	}
	r.h.finish(op, si, err)
	return res, err
}

// progressWriter tells a download's progress.
type progressWriter struct {
	w    io.Writer
	n    int64
	tell func(n int64)
}

func (c *progressWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.tell(c.n)
	return n, err
}

// Download records a download of an immutable file, or the servermap
// update and retrieve of a mutable one.
func (r *recordingStore) Download(ctx context.Context, c *caps.Cap, w io.Writer, o filestore.DownloadOptions) error {
	if c.IsMutable() {
		return r.retrieve(c, func() (int64, error) {
			cw := &progressWriter{w: w, tell: func(int64) {}}
			err := r.Store.Download(ctx, c, cw, o)
			return cw.n, err
		})
	}
	si := storageIndex(c)
	if si == nil {
		return r.Store.Download(ctx, c, w, o)
	}
	size, _ := c.SizeKnown()
	op := r.h.begin(opDownload, si, int64(size), "fetching")
	cw := &progressWriter{w: w, tell: func(n int64) {
		if size > 0 {
			r.h.update(op, func(op *opStatus) { op.progress[0] = float64(n) / float64(size) })
		}
	}}
	err := r.Store.Download(ctx, c, cw, o)
	ended := err
	if errors.Is(err, errWindowDone) {
		ended = nil // a ranged read that got all it asked for
	}
	r.h.finish(op, nil, ended)
	return err
}

// retrieve records reading a mutable object: a servermap update in
// MODE_READ, then the retrieve of read() bytes.
func (r *recordingStore) retrieve(c *caps.Cap, read func() (int64, error)) error {
	si := storageIndex(c)
	mu := r.h.begin(opMapupdate, si, -1, "Started")
	r.h.update(mu, func(op *opStatus) { op.mode = modeRead })
	ret := r.h.begin(opRetrieve, si, -1, "Retrieving Shares")
	n, err := read()
	r.h.update(ret, func(op *opStatus) { op.size = n })
	r.h.finish(mu, nil, err)
	r.h.finish(ret, nil, err)
	return err
}

// CreateMutable records the publish of a new mutable file.
func (r *recordingStore) CreateMutable(ctx context.Context, data []byte, o filestore.MutableOptions) (*caps.Cap, error) {
	op := r.h.begin(opPublish, nil, int64(len(data)), "Started")
	c, err := r.Store.CreateMutable(ctx, data, o)
	r.h.finish(op, storageIndex(c), err)
	return c, err
}

// OverwriteMutable records a servermap update in MODE_WRITE and the
// publish of the new version.
func (r *recordingStore) OverwriteMutable(ctx context.Context, c *caps.Cap, data []byte) error {
	si := storageIndex(c)
	mu := r.h.begin(opMapupdate, si, -1, "Started")
	r.h.update(mu, func(op *opStatus) { op.mode = modeWrite })
	pub := r.h.begin(opPublish, si, int64(len(data)), "Started")
	err := r.Store.OverwriteMutable(ctx, c, data)
	r.h.finish(mu, nil, err)
	r.h.finish(pub, nil, err)
	return err
}

// Mkdir records the publish of a new mutable directory or the upload of
// an immutable one (its size: the packed children, when known).
func (r *recordingStore) Mkdir(ctx context.Context, o filestore.MkdirOptions) (*caps.Cap, error) {
	kind, size := opPublish, int64(-1)
	if len(o.Children) == 0 {
		size = 0
	}
	if o.Format == filestore.FormatCHK {
		kind = opUpload
	}
	op := r.h.begin(kind, nil, size, "Started")
	c, err := r.Store.Mkdir(ctx, o)
	var si []byte
	if err == nil {
		fc, ferr := caps.FileOf(c)
		if ferr == nil {
			si = storageIndex(fc)
		}
	}
	r.h.finish(op, si, err)
	return c, err
}

// ReadDir records reading a directory: a mutable one's servermap update
// and retrieve, an immutable one's download.
func (r *recordingStore) ReadDir(ctx context.Context, dir *caps.Cap) ([]dirnode.Entry, error) {
	fc, err := caps.FileOf(dir)
	if err != nil || storageIndex(fc) == nil {
		return r.Store.ReadDir(ctx, dir)
	}
	var out []dirnode.Entry
	if !fc.IsMutable() {
		size, _ := fc.SizeKnown()
		op := r.h.begin(opDownload, storageIndex(fc), int64(size), "fetching")
		out, err = r.Store.ReadDir(ctx, dir)
		r.h.finish(op, nil, err)
		return out, err
	}
	err = r.retrieve(fc, func() (int64, error) {
		var err error
		out, err = r.Store.ReadDir(ctx, dir)
		return -1, err
	})
	return out, err
}

// modify records a directory change: servermap update in MODE_WRITE,
// retrieve of the current children, publish of the new.
func (r *recordingStore) modify(dir *caps.Cap, do func() error) error {
	fc, err := caps.FileOf(dir)
	if err != nil || storageIndex(fc) == nil || !fc.IsMutable() {
		return do()
	}
	si := storageIndex(fc)
	mu := r.h.begin(opMapupdate, si, -1, "Started")
	r.h.update(mu, func(op *opStatus) { op.mode = modeWrite })
	ret := r.h.begin(opRetrieve, si, -1, "Retrieving Shares")
	pub := r.h.begin(opPublish, si, -1, "Started")
	err = do()
	for _, op := range []*opStatus{mu, ret, pub} {
		r.h.finish(op, nil, err)
	}
	return err
}

// Link records the directory change.
func (r *recordingStore) Link(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, replace bool) error {
	return r.modify(dir, func() error { return r.Store.Link(ctx, dir, name, child, replace) })
}

// Unlink records the directory change.
func (r *recordingStore) Unlink(ctx context.Context, dir *caps.Cap, name string) error {
	return r.modify(dir, func() error { return r.Store.Unlink(ctx, dir, name) })
}

// ModifyDir records the directory change.
func (r *recordingModifier) ModifyDir(ctx context.Context, dir *caps.Cap, change func([]dirnode.Entry) ([]dirnode.Entry, error)) error {
	return r.modify(dir, func() error { return r.dm.ModifyDir(ctx, dir, change) })
}
