package deep

import (
	"context"
	"sync"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// Checker checks, and checks and repairs, one object. The direct store
// (pkg/client) implements it; so can a gateway.
type Checker interface {
	Check(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.Results, error)
	CheckAndRepair(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.CheckAndRepair, error)
}

// CheckOptions tune a deep check.
type CheckOptions struct {
	health.CheckOptions
	// Repair repairs every object found unhealthy.
	Repair bool
	// Walk tunes the directory walk.
	Walk Options
	// Parallel bounds the objects being checked at once (default 8).
	Parallel int
}

// Checked is one object of a deep check with its results: Check for a
// plain deep check, Repair with CheckOptions.Repair.
type Checked struct {
	Node   Node
	Check  *health.Results
	Repair *health.CheckAndRepair
}

// Line is the object's line of t=stream-deep-check (no newline): the
// manifest fields and "check-results" or "check-and-repair-results".
func (c Checked) Line() string {
	obj := NodeObject(c.Node)
	if c.Repair != nil {
		obj = append(obj, health.Field{Key: "check-and-repair-results", Value: c.Repair.Object()})
	} else {
		obj = append(obj, health.Field{Key: "check-results", Value: c.Check.Object()})
	}
	return health.PyJSON(obj, -1)
}

// DeepLine is the object as `tahoe deep-check` prints it.
func (c Checked) DeepLine() health.DeepLine {
	return health.DeepLine{Path: c.Node.Path, Type: c.Node.Type, StorageIndex: c.Node.StorageIndex(), Check: c.Check, Repair: c.Repair}
}

// Check walks the tree under root and checks every object (checks and
// repairs with o.Repair), several at once, calling each with the results
// in walk order from one goroutine. LIT files and unknown objects have
// nothing on the grid and get a LIT result without asking the checker.
// The returned report holds the totals and stats; a failing check or
// directory read ends the deep check with its error (as in Tahoe).
func Check(ctx context.Context, st filestore.Store, ck Checker, root *caps.Cap, o CheckOptions, each func(Checked) error) (*Report, error) {
	report := NewReport(root, o.Repair)
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		c    Checked
		err  error
		done chan struct{}
	}
	jobs := make(chan *job)
	order := make(chan *job, 2*parallel)
	var workers sync.WaitGroup
	for range parallel {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				j.c, j.err = checkOne(ctx, ck, j.c.Node, o)
				close(j.done)
			}
		}()
	}
	var firstErr error
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for j := range order {
			<-j.done
			if ctx.Err() != nil {
				continue
			}
			if j.err != nil {
				fail(j.err)
				continue
			}
			report.Add(j.c)
			if each != nil {
				if err := each(j.c); err != nil {
					fail(err)
				}
			}
		}
	}()
	werr := Walk(ctx, st, root, o.Walk, func(ctx context.Context, n Node) error {
		j := &job{c: Checked{Node: n}, done: make(chan struct{})}
		select {
		case order <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			close(j.done)
			return ctx.Err()
		}
		return nil
	})
	close(jobs)
	workers.Wait()
	close(order)
	<-emitted
	if firstErr != nil {
		return report, firstErr
	}
	if werr != nil {
		return report, werr
	}
	report.Finished = true
	return report, nil
}

func checkOne(ctx context.Context, ck Checker, n Node, o CheckOptions) (Checked, error) {
	c := Checked{Node: n}
	literal := n.Type == TypeUnknown || n.StorageIndex() == ""
	switch {
	case literal && o.Repair:
		c.Repair = health.LiteralRepair()
	case literal:
		c.Check = health.Literal()
	case o.Repair:
		r, err := ck.CheckAndRepair(ctx, n.Cap, o.CheckOptions)
		if err != nil {
			return c, err
		}
		c.Repair = r
	default:
		r, err := ck.Check(ctx, n.Cap, o.CheckOptions)
		if err != nil {
			return c, err
		}
		c.Check = r
	}
	return c, nil
}

// Report is a deep check's totals (Tahoe's DeepCheckResults or
// DeepCheckAndRepairResults) and the stats of the tree.
type Report struct {
	RootStorageIndex string
	Repairing        bool
	Finished         bool
	Stats            Stats

	Checked, Healthy, Unhealthy, Unrecoverable int
	// With Repairing: the counts after repair, and the repairs.
	HealthyPost, UnhealthyPost, UnrecoverablePost int
	RepairsAttempted, RepairsSuccessful           int

	Corrupt, CorruptPost []health.ShareLocator
	// UnhealthyObjects are the objects unhealthy (before repair).
	UnhealthyObjects []Checked
}

// NewReport starts the report of a deep check of root.
func NewReport(root *caps.Cap, repairing bool) *Report {
	r := &Report{Repairing: repairing}
	if root != nil && !root.IsUnknown() && len(root.StorageIndex) > 0 {
		r.RootStorageIndex = caps.Base32Encode(root.StorageIndex)
	}
	return r
}

// Add counts one checked object. Objects with nothing on the grid (LIT
// files, unknown objects) are in the stats only, as in Tahoe.
func (r *Report) Add(c Checked) {
	r.Stats.Add(c.Node)
	pre := c.Check
	if c.Repair != nil {
		if c.Repair.IsLiteral() {
			return
		}
		pre = c.Repair.Pre
	}
	if pre == nil || pre.IsLiteral() {
		return
	}
	r.Checked++
	if pre.Healthy {
		r.Healthy++
	} else {
		r.Unhealthy++
		r.UnhealthyObjects = append(r.UnhealthyObjects, c)
	}
	if !pre.Recoverable {
		r.Unrecoverable++
	}
	r.Corrupt = append(r.Corrupt, pre.CorruptShares...)
	if c.Repair == nil {
		return
	}
	if c.Repair.RepairAttempted {
		r.RepairsAttempted++
		if c.Repair.RepairSuccessful {
			r.RepairsSuccessful++
		}
	}
	post := c.Repair.Post
	if post.Healthy {
		r.HealthyPost++
	} else {
		r.UnhealthyPost++
	}
	if !post.Recoverable {
		r.UnrecoverablePost++
	}
	r.CorruptPost = append(r.CorruptPost, post.CorruptShares...)
}

func locatorList(ls []health.ShareLocator) []any {
	out := make([]any, len(ls))
	for i, l := range ls {
		out[i] = []any{l.Server, caps.Base32Encode(l.StorageIndex), l.Share}
	}
	return out
}

// JSON is the body of the deep-check operation's status
// (t=start-deep-check, then GET /operations/HANDLE?output=JSON), with
// Tahoe's keys in its order.
func (r *Report) JSON() string {
	unhealthy := make([]any, len(r.UnhealthyObjects))
	for i, c := range r.UnhealthyObjects {
		pre := c.Check
		if c.Repair != nil {
			pre = c.Repair.Pre
		}
		unhealthy[i] = []any{pathValue(c.Node.Path), pre.Object()}
	}
	obj := health.Object{
		{Key: "finished", Value: r.Finished},
		{Key: "root-storage-index", Value: r.RootStorageIndex},
		{Key: "count-objects-checked", Value: r.Checked},
	}
	if !r.Repairing {
		obj = append(obj,
			health.Field{Key: "count-objects-healthy", Value: r.Healthy},
			health.Field{Key: "count-objects-unhealthy", Value: r.Unhealthy},
			health.Field{Key: "count-corrupt-shares", Value: len(r.Corrupt)},
			health.Field{Key: "list-corrupt-shares", Value: locatorList(r.Corrupt)},
			health.Field{Key: "list-unhealthy-files", Value: unhealthy},
			health.Field{Key: "stats", Value: r.Stats.Object()})
		return health.PyJSON(obj, 1) + "\n"
	}
	obj = append(obj,
		health.Field{Key: "count-objects-healthy-pre-repair", Value: r.Healthy},
		health.Field{Key: "count-objects-unhealthy-pre-repair", Value: r.Unhealthy},
		health.Field{Key: "count-objects-healthy-post-repair", Value: r.HealthyPost},
		health.Field{Key: "count-objects-unhealthy-post-repair", Value: r.UnhealthyPost},
		health.Field{Key: "count-repairs-attempted", Value: r.RepairsAttempted},
		health.Field{Key: "count-repairs-successful", Value: r.RepairsSuccessful},
		health.Field{Key: "count-repairs-unsuccessful", Value: r.RepairsAttempted - r.RepairsSuccessful},
		health.Field{Key: "count-corrupt-shares-pre-repair", Value: len(r.Corrupt)},
		// Tahoe reports the pre-repair count under this key too.
		health.Field{Key: "count-corrupt-shares-post-repair", Value: len(r.Corrupt)},
		health.Field{Key: "list-corrupt-shares", Value: locatorList(r.Corrupt)},
		health.Field{Key: "list-remaining-corrupt-shares", Value: locatorList(r.CorruptPost)},
		health.Field{Key: "list-unhealthy-files", Value: unhealthy},
		health.Field{Key: "stats", Value: r.Stats.Object()})
	return health.PyJSON(obj, 1) + "\n"
}
