// Package backup is the engine of `tahoe backup` and `lafs backup`: it
// adds a versioned snapshot of a local directory to TO/Archives/<UTC
// timestamp> on the grid and points TO/Latest at it, sharing as much as
// it can with earlier snapshots. The backup database (package backupdb,
// private/backupdb.sqlite) remembers what each local file was uploaded
// as, so a re-run skips unchanged files, and what each immutable
// directory's contents were, so an unchanged directory is reused.
//
// The walk and its rules are Tahoe's (docs/frontends/CLI.rst, "tahoe
// backup"): a directory's children before the directory, names in the
// order the directory lists them (unsorted, as Python's os.listdir),
// symlinks and special files skipped with a warning, --exclude patterns
// as Python's fnmatch reads them. Files upload a window at a time
// (package window), except that files which may be identical go one after
// another; what Run reports comes in the walk's order whatever order the
// uploads finish in. Through a node's web API (package gateway) it makes
// the requests Tahoe's own backup makes, paths resolved by the node.
//
// It prints nothing: the two CLIs turn its Hooks into their own output
// (Tahoe's lines for tahoe; a progress bar, a summary and JSON for lafs).
package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lafs/lafs/internal/backup/backupdb"
	"github.com/lafs/lafs/internal/window"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// Options say what to back up and how.
type Options struct {
	// From is the local directory.
	From string
	// To is the grid directory that holds Archives and Latest (made when
	// missing).
	To filestore.Path
	// Verbose asks for Tahoe's verbose lines (Hooks.Verbose).
	Verbose bool
	// IgnoreTimestamps uploads files the database says are unchanged.
	IgnoreTimestamps bool
	// Exclude are glob patterns (Python fnmatch) matched on each name.
	Exclude []string
	// Parallel is how many files upload at once (window.Default when 0).
	Parallel int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Hooks are how Run reports; each may be nil. Run calls them from its
// own goroutine, in the walk's order.
type Hooks struct {
	// Warn is told of each file or directory skipped (Tahoe's "WARNING:
	// ..." line).
	Warn func(msg string)
	// Verbose is told Tahoe's verbose lines ("uploading '...'..", " re-using
	// old directory for '...'"), only when Options.Verbose.
	Verbose func(line string)
	// Step is told of each file or directory done.
	Step func(Step)
}

// Step is one target of the walk, done.
type Step struct {
	Path string
	Dir  bool
	// What happened: Uploaded, Reused, Created or Skipped.
	What What
	// Size is a file's size in bytes.
	Size int64
	// Done of Total targets (files and directories) so far; Elapsed
	// since the run began.
	Done, Total int
	Elapsed     time.Duration
}

// What is what became of a target.
type What string

// What became of a target.
const (
	Uploaded What = "uploaded" // a file sent to the grid
	Reused   What = "reused"   // a file or directory the database knew unchanged
	Created  What = "created"  // a new directory
	Skipped  What = "skipped"  // could not be backed up (see Hooks.Warn)
)

// Summary is what a run did.
type Summary struct {
	FilesUploaded, FilesReused, FilesSkipped int
	DirsCreated, DirsReused, DirsSkipped     int
	// FilesChecked and DirsChecked count the database's entries that were
	// due a check and were checked on the grid (reused when healthy,
	// uploaded or created again when not), as Tahoe's backup counts them.
	FilesChecked, DirsChecked int
	// Bytes is the size of the files backed up (uploaded or reused).
	Bytes int64
	// Cap is the snapshot's directory (an immutable DIR2-CHK or LIT dir).
	Cap *caps.Cap
	// Archive is the snapshot's name under Archives (the UTC time).
	Archive string
	// Started is when the run began; Elapsed how long it took.
	Started time.Time
	Elapsed time.Duration
}

// Skipped reports whether anything was skipped.
func (s *Summary) Skipped() bool { return s.FilesSkipped > 0 || s.DirsSkipped > 0 }

// ErrCreateTarget wraps the failure to make TO/Archives.
var ErrCreateTarget = errors.New("Unable to create target directory")

// VCSPatterns are what --exclude-vcs excludes (Tahoe's list).
var VCSPatterns = []string{"CVS", "RCS", "SCCS", ".git", ".gitignore", ".cvsignore",
	".svn", ".arch-ids", "{arch}", "=RELEASE-ID", "=meta-update", "=update", ".bzr", ".bzrignore",
	".bzrtags", ".hg", ".hgignore", "_darcs"}

// AddPattern appends p to pats unless it is blank (surrounding space is
// trimmed, as Tahoe does).
func AddPattern(pats []string, p string) []string {
	if p = strings.TrimSpace(p); p != "" {
		pats = append(pats, p)
	}
	return pats
}

// ReadExcludeFile reads the patterns of an --exclude-from file, one a
// line (Tahoe's error text when it cannot be opened).
func ReadExcludeFile(name string) ([]string, error) {
	abs, _ := filepath.Abs(name)
	fh, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("Error opening exclude file '%s'. (Error: %w)", abs, err)
	}
	defer fh.Close()
	var pats []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		pats = append(pats, sc.Text())
	}
	return pats, sc.Err()
}

// Fnmatch translates a glob as Python's fnmatch.translate does: * any
// run, ? one character, [seq] and [!seq] sets, the rest literal; the
// whole name must match.
func Fnmatch(pat string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			set := pat[i+1 : j]
			neg := strings.HasPrefix(set, "!")
			set = strings.TrimPrefix(set, "!")
			set = strings.ReplaceAll(set, `\`, `\\`)
			b.WriteByte('[')
			if neg {
				b.WriteByte('^')
			} else if strings.HasPrefix(set, "^") {
				b.WriteByte('\\')
			}
			b.WriteString(set)
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}

// PatternError is an --exclude pattern that is not a glob.
type PatternError struct {
	Pattern string
	Err     error
}

func (e *PatternError) Error() string { return fmt.Sprintf("--exclude %q: %v", e.Pattern, e.Err) }

// run is one backup's state.
type run struct {
	o       Options
	h       Hooks
	s       filestore.Store
	db      *backupdb.DB
	exclude []*regexp.Regexp
	now     func() time.Time
	sum     Summary
	total   int
	same    sameLocks // files that may be identical upload one at a time
}

// target is one thing to back up, in Tahoe's order (a directory's
// children before the directory).
type target struct {
	path  string
	isDir bool
	size  int64
	// skip, when set, is why the target cannot be backed up: the warning.
	skip string
}

// child is an item of a directory being made.
type child struct {
	cap      string
	metadata json.RawMessage
}

// Walk counts the files a backup of from would upload or reuse, and their
// bytes, for a caller that wants totals before it starts (a progress
// bar). It applies exclude as Run does.
func Walk(from string, exclude []string) (files int, bytes int64, err error) {
	r := &run{}
	if err := r.compile(exclude); err != nil {
		return 0, 0, err
	}
	var ts []target
	r.collect(from, &ts)
	for _, t := range ts {
		if !t.isDir && t.skip == "" {
			files++
			bytes += t.size
		}
	}
	return files, bytes, nil
}

func (r *run) compile(patterns []string) error {
	for _, p := range patterns {
		re, err := Fnmatch(p)
		if err != nil {
			return &PatternError{Pattern: p, Err: err}
		}
		r.exclude = append(r.exclude, re)
	}
	return nil
}

// Run backs o.From up to o.To through s, remembering in db. It returns
// what it did; an error means no snapshot was linked (files uploaded so
// far are remembered in db, so a re-run skips them).
func Run(ctx context.Context, s filestore.Store, db *backupdb.DB, o Options, h Hooks) (*Summary, error) {
	r := &run{o: o, h: h, s: s, db: db, now: o.Now}
	if r.now == nil {
		r.now = time.Now
	}
	r.sum.Started = r.now()
	if err := r.compile(o.Exclude); err != nil {
		return nil, err
	}
	from, err := filepath.Abs(o.From)
	if err != nil {
		return nil, err
	}
	dst, err := openDest(ctx, s, o.To)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCreateTarget, err)
	}
	var targets []target
	r.collect(from, &targets)
	r.total = len(targets)
	last, err := r.walk(ctx, targets)
	if err != nil {
		return nil, err
	}
	if last == "" {
		return nil, fmt.Errorf("nothing backed up: %s could not be read", from)
	}
	dircap, err := caps.Parse(last)
	if err != nil {
		return nil, err
	}
	r.sum.Cap = dircap
	r.sum.Archive = time.Unix(r.now().Unix(), 0).UTC().Format("2006-01-02_15:04:05") + "Z"
	if err := dst.link(ctx, "Archives/"+r.sum.Archive, dircap); err != nil {
		return nil, fmt.Errorf("Error during put_child: %w", err)
	}
	if err := dst.link(ctx, "Latest", dircap); err != nil {
		return nil, fmt.Errorf("Error during put_child: %w", err)
	}
	r.sum.Elapsed = r.now().Sub(r.sum.Started)
	return &r.sum, nil
}

// walk backs up targets in order, files a window at a time ahead of the
// loop, which takes their results in order (a directory after its
// children), and returns the last directory's cap (the root's).
func (r *run) walk(ctx context.Context, targets []target) (string, error) {
	w := window.New(ctx, r.o.Parallel)
	var files []int
	for i, t := range targets {
		if !t.isDir && t.skip == "" {
			files = append(files, i)
		}
	}
	// The feeder submits every file in walk order; Go holds it back while
	// the window is full. Results wait in pending for the loop.
	pending := make(chan *window.Result[fileResult], len(files))
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer close(pending)
		for _, i := range files {
			path := targets[i].path
			pending <- window.GoSized(w, window.UploadMemory(targets[i].size), func(ctx context.Context) (fileResult, error) { return r.file(ctx, path), nil })
		}
	}()
	defer func() {
		w.Cancel()
		<-fed
		_ = w.Close()
	}()
	children := map[string]map[string]child{} // dir path -> name -> child
	var last string
	for _, t := range targets {
		parent, name := filepath.Dir(t.path), filepath.Base(t.path)
		step := Step{Path: t.path, Dir: t.isDir}
		switch {
		case t.skip != "":
			r.warn(t.skip)
			step.What = Skipped
			if t.isDir {
				r.sum.DirsSkipped++
			} else {
				r.sum.FilesSkipped++
			}
		case t.isDir:
			c, what, err := r.directory(ctx, t.path, children[t.path])
			if err != nil {
				return "", err
			}
			step.What = what
			delete(children, t.path)
			if children[parent] == nil {
				children[parent] = map[string]child{}
			}
			children[parent][name] = c
			last = c.cap
		default:
			res, err := (<-pending).Wait()
			if err == nil {
				err = res.err
			}
			if err != nil {
				if errors.Is(err, context.Canceled) && w.Err() != nil && !errors.Is(w.Err(), context.Canceled) {
					err = w.Err() // the failure that cancelled this one
				}
				return "", err
			}
			for _, l := range res.log {
				r.verbose(l)
			}
			if res.skip != "" {
				r.warn(res.skip)
				r.sum.FilesSkipped++
				step.What = Skipped
				break
			}
			if res.checked {
				r.sum.FilesChecked++
			}
			step.Size = res.size
			r.sum.Bytes += res.size
			if res.uploaded {
				r.sum.FilesUploaded++
				step.What = Uploaded
			} else {
				r.sum.FilesReused++
				step.What = Reused
			}
			if children[parent] == nil {
				children[parent] = map[string]child{}
			}
			children[parent][name] = res.child
		}
		if r.h.Step != nil {
			step.Done, step.Total, step.Elapsed = r.done(), r.total, r.now().Sub(r.sum.Started)
			r.h.Step(step)
		}
	}
	return last, nil
}

func (r *run) done() int {
	s := &r.sum
	return s.FilesUploaded + s.FilesReused + s.FilesSkipped + s.DirsCreated + s.DirsReused + s.DirsSkipped
}

func (r *run) warn(msg string) {
	if r.h.Warn != nil {
		r.h.Warn(msg)
	}
}

func (r *run) verbose(line string) {
	if r.o.Verbose && r.h.Verbose != nil {
		r.h.Verbose(line)
	}
}

func (r *run) excluded(name string) bool {
	for _, re := range r.exclude {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// collect appends the targets under dir, deepest first, then dir. Names
// come in the order the directory lists them (Python's os.listdir, which
// Tahoe's backup walks, does not sort), so the progress and verbose lines
// come in Tahoe's order.
func (r *run) collect(dir string, out *[]target) {
	ents, err := listDir(dir)
	if err != nil {
		*out = append(*out, target{path: dir, isDir: true, skip: fmt.Sprintf("WARNING: permission denied on directory '%s'", dir)})
		return
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if !r.excluded(e.Name()) {
			names = append(names, e.Name())
		}
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			*out = append(*out, target{path: p, skip: fmt.Sprintf("WARNING: permission denied on file '%s'", p)})
		case fi.Mode()&fs.ModeSymlink != 0:
			*out = append(*out, target{path: p, skip: fmt.Sprintf("WARNING: cannot backup symlink '%s'", p)})
		case fi.IsDir():
			r.collect(p, out)
		case fi.Mode().IsRegular():
			*out = append(*out, target{path: p, size: fi.Size()})
		default:
			*out = append(*out, target{path: p, skip: fmt.Sprintf("WARNING: cannot backup special '%s'", p)})
		}
	}
	*out = append(*out, target{path: dir, isDir: true})
}

// listDir lists a directory in its own order (os.ReadDir sorts).
func listDir(dir string) ([]fs.DirEntry, error) {
	fh, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return fh.ReadDir(-1)
}

// localMetadata is the metadata Tahoe's backup records of a local file or
// directory (ctime and mtime as float seconds, then the stat fields), as
// the JSON text Python's json.dumps gives it, and the figures the backup
// database compares.
func localMetadata(fi fs.FileInfo) (json.RawMessage, backupdb.FileStat) {
	fst := backupdb.FileStat{Size: fi.Size(), Mtime: fi.ModTime().Unix(), Ctime: fi.ModTime().Unix()}
	mtime := pyFloat(pyStatTime(fi.ModTime().Unix(), int64(fi.ModTime().Nanosecond())))
	fields := [][2]string{{"ctime", mtime}, {"mtime", mtime}}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fst.Ctime = int64(st.Ctim.Sec)
		fields = [][2]string{
			{"ctime", pyFloat(pyStatTime(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)))},
			{"mtime", mtime},
			{"st_mode", strconv.FormatUint(uint64(st.Mode), 10)},
			{"st_ino", strconv.FormatUint(uint64(st.Ino), 10)},
			{"st_dev", strconv.FormatUint(uint64(st.Dev), 10)},
			{"st_uid", strconv.FormatUint(uint64(st.Uid), 10)},
			{"st_gid", strconv.FormatUint(uint64(st.Gid), 10)},
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", f[0], f[1])
	}
	b.WriteByte('}')
	return json.RawMessage(b.String()), fst
}

// pyFloat writes a float as Python's repr does for ordinary magnitudes.
func pyFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// fileResult is what backing up one file came to.
type fileResult struct {
	child    child
	size     int64
	uploaded bool   // else reused
	checked  bool   // the database's entry was due a check, and was checked
	skip     string // the warning, when it could not be read
	log      []string
	err      error
}

// file backs up one file: reused when the database knows it unchanged,
// else uploaded. It runs on several files at once and prints nothing
// (its verbose lines are returned, in order).
func (r *run) file(ctx context.Context, path string) (res fileResult) {
	logf := func(format string, a ...any) {
		if r.o.Verbose {
			res.log = append(res.log, fmt.Sprintf(format, a...))
		}
	}
	res.child, res.size, res.uploaded, res.checked, res.err = r.uploadFile(ctx, path, logf)
	var pe *fs.PathError
	if errors.As(res.err, &pe) && pe.Op == "open" {
		res.skip, res.err = fmt.Sprintf("WARNING: permission denied on file '%s'", path), nil
	}
	return res
}

func (r *run) uploadFile(ctx context.Context, path string, logf func(string, ...any)) (_ child, _ int64, uploaded, checked bool, _ error) {
	fh, err := os.Open(path)
	if err != nil {
		return child{}, 0, false, false, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return child{}, 0, false, false, err
	}
	md, st := localMetadata(fi)
	res, err := r.db.CheckFile(ctx, path, st, !r.o.IgnoreTimestamps)
	if err != nil {
		return child{}, 0, false, false, err
	}
	reuse := res.Cap != "" && !res.ShouldCheck
	if res.Cap != "" && res.ShouldCheck {
		// Due a check: as Tahoe, ask the grid; healthy, it is reused.
		if checked = r.canCheck(); checked {
			logf("checking '%s'", res.Cap)
			if reuse = r.healthy(ctx, res.Cap); reuse {
				if err := r.db.DidCheckFile(ctx, res); err != nil {
					return child{}, 0, false, checked, err
				}
			}
		}
	}
	if reuse {
		logf("skipping '%s'..", path)
		return child{cap: res.Cap, metadata: md}, fi.Size(), false, checked, nil
	}
	// New, changed, or found unhealthy (or due a check that this store
	// cannot make): upload.
	logf("uploading '%s'..", path)
	key, err := keyOf(fh, fi.Size())
	if err != nil {
		return child{}, 0, false, checked, fmt.Errorf("Error during file PUT of %s: %w", path, err)
	}
	unlock, err := r.same.lock(ctx, key)
	if err != nil {
		return child{}, 0, false, checked, fmt.Errorf("Error during file PUT of %s: %w", path, err)
	}
	up, err := r.s.Upload(ctx, fh, fi.Size(), filestore.UploadOptions{})
	unlock()
	if err != nil {
		return child{}, 0, false, checked, fmt.Errorf("Error during file PUT of %s: %w", path, err)
	}
	filecap := up.Cap.String()
	logf(" %s -> %s", path, filecap)
	if err := r.db.DidUploadFile(ctx, res, filecap); err != nil {
		return child{}, 0, false, checked, err
	}
	return child{cap: filecap, metadata: md}, fi.Size(), true, checked, nil
}

// checker is a store that can check an object on the grid (both the
// direct store and the gateway are).
type checker interface {
	Check(ctx context.Context, c *caps.Cap, o health.CheckOptions) (*health.Results, error)
}

func (r *run) canCheck() bool {
	_, ok := r.s.(checker)
	return ok
}

// healthy checks the object c names (a plain check, Tahoe's `POST
// /uri/$CAP?t=check&output=JSON` through a gateway); false when the check
// fails or cannot be made, as Tahoe takes a failed check for unhealthy.
func (r *run) healthy(ctx context.Context, c string) bool {
	ch, ok := r.s.(checker)
	if !ok {
		return false
	}
	cp, err := caps.Parse(c)
	if err != nil {
		return false
	}
	res, err := ch.Check(ctx, cp, health.CheckOptions{})
	return err == nil && res.Healthy
}

// directory makes (or reuses) the immutable directory of a local
// directory whose children are done.
func (r *run) directory(ctx context.Context, path string, kids map[string]child) (child, What, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return child{}, "", err
	}
	md, _ := localMetadata(fi)
	compare := make(map[string]string, len(kids))
	for name, k := range kids {
		compare[name] = k.cap
	}
	res, err := r.db.CheckDirectory(ctx, compare)
	if err != nil {
		return child{}, "", err
	}
	reuse := res.Cap != "" && !res.ShouldCheck
	if res.Cap != "" && res.ShouldCheck && r.canCheck() {
		r.verbose(fmt.Sprintf("checking '%s'", res.Cap))
		r.sum.DirsChecked++
		if reuse = r.healthy(ctx, res.Cap); reuse {
			if err := r.db.DidCheckDirectory(ctx, res); err != nil {
				return child{}, "", err
			}
		}
	}
	if reuse {
		r.verbose(fmt.Sprintf(" re-using old directory for '%s'", path))
		r.sum.DirsReused++
		return child{cap: res.Cap, metadata: md}, Reused, nil
	}
	r.verbose(fmt.Sprintf(" creating directory for '%s'", path))
	names := make([]string, 0, len(kids))
	for n := range kids {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := make([]dirnode.Entry, 0, len(kids))
	for _, n := range names {
		entries = append(entries, dirnode.Entry{Name: n, ROCap: kids[n].cap, Metadata: kids[n].metadata})
	}
	dircap, err := r.s.Mkdir(ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: entries})
	if err != nil {
		return child{}, "", fmt.Errorf("Error during mkdir of %s: %w", path, err)
	}
	if err := r.db.DidCreateDirectory(ctx, res, dircap.String()); err != nil {
		return child{}, "", err
	}
	r.sum.DirsCreated++
	return child{cap: dircap.String(), metadata: md}, Created, nil
}
