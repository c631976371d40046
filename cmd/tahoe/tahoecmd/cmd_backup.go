package tahoecmd

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
	"sync"
	"syscall"
	"time"

	"github.com/lafs/lafs/cmd/tahoe/backupdb"
	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/urfave/cli/v2"
)

// backupOptions are backup's arguments and switches.
type backupOptions struct {
	From, To         string
	Verbose          bool
	IgnoreTimestamps bool
	Exclude          []string // glob patterns (Python fnmatch) on names
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// vcsPatterns are what --exclude-vcs excludes (Tahoe's list).
var vcsPatterns = []string{"CVS", "RCS", "SCCS", ".git", ".gitignore", ".cvsignore",
	".svn", ".arch-ids", "{arch}", "=RELEASE-ID", "=meta-update", "=update", ".bzr", ".bzrignore",
	".bzrtags", ".hg", ".hgignore", "_darcs"}

func newBackupCommand(f *command.Factory) *cli.Command {
	var o backupOptions
	var excludes, excludeFrom cli.StringSlice
	var vcs bool
	return &cli.Command{
		Name:      "backup",
		Usage:     "make target dir look like local dir",
		ArgsUsage: "FROM ALIAS:TO",
		Description: "Add a versioned backup of the local FROM directory to a timestamped subdirectory of the\n" +
			"TO/Archives directory on the grid, sharing as many files and directories as possible with\n" +
			"earlier backups (private/backupdb.sqlite remembers them). Create TO/Latest as a reference to\n" +
			"the latest backup. Exit status: 0 success, 2 when some files or directories were skipped,\n" +
			"1 failure or usage error.",
		Flags: withFileStoreFlags(f,
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "be noisy about what is happening", Destination: &o.Verbose},
			&cli.BoolFlag{Name: "ignore-timestamps", Usage: "do not use backupdb timestamps to decide whether a local file is unchanged", Destination: &o.IgnoreTimestamps},
			&cli.StringSliceFlag{Name: "exclude", Usage: "ignore files matching a glob pattern (may be repeated)", Destination: &excludes},
			&cli.StringSliceFlag{Name: "exclude-from-utf-8", Aliases: []string{"exclude-from"}, Usage: "ignore files matching the glob patterns listed in a file, one per line", Destination: &excludeFrom},
			&cli.BoolFlag{Name: "exclude-vcs", Usage: "exclude the files and directories of CVS, RCS, SCCS, Git, SVN, Arch, Bazaar, Mercurial, Darcs", Destination: &vcs},
		),
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 2 {
				return command.Usagef("Wrong number of arguments.")
			}
			o.From, o.To = cCtx.Args().Get(0), cCtx.Args().Get(1)
			for _, p := range excludes.Value() {
				o.Exclude = appendPattern(o.Exclude, p)
			}
			for _, name := range excludeFrom.Value() {
				pats, err := readExcludeFile(name)
				if err != nil {
					return err
				}
				for _, p := range pats {
					o.Exclude = appendPattern(o.Exclude, p)
				}
			}
			if vcs {
				for _, p := range vcsPatterns {
					o.Exclude = appendPattern(o.Exclude, p)
				}
			}
			return runBackup(cCtx.Context, f, o)
		},
	}
}

func appendPattern(pats []string, p string) []string {
	if p = strings.TrimSpace(p); p != "" {
		pats = append(pats, p)
	}
	return pats
}

func readExcludeFile(name string) ([]string, error) {
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

// fnmatchRegexp translates a glob as Python's fnmatch.translate does:
// * any run, ? one character, [seq] and [!seq] sets, the rest literal;
// the whole name must match.
func fnmatchRegexp(pat string) (*regexp.Regexp, error) {
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

// backupRun is one backup's state: counts, the caps of what is done so
// far, the database and the store.
type backupRun struct {
	ctx     context.Context
	f       *command.Factory
	o       backupOptions
	s       filestore.Store
	db      *backupdb.DB
	exclude []*regexp.Regexp
	start   time.Time
	total   int

	filesCreated, filesReused, filesSkipped int
	dirsCreated, dirsReused, dirsSkipped    int
}

// backupTarget is one thing to back up, in Tahoe's order (a directory's
// children before the directory).
type backupTarget struct {
	path  string
	isDir bool
	// skip, when set, is why the target cannot be backed up: the warning
	// printed instead.
	skip string
}

// backupChild is an item of a directory being made.
type backupChild struct {
	kind     string // filenode or dirnode
	cap      string
	metadata json.RawMessage
}

func runBackup(ctx context.Context, f *command.Factory, o backupOptions) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	r := &backupRun{ctx: ctx, f: f, o: o, start: now()}
	for _, p := range o.Exclude {
		re, err := fnmatchRegexp(p)
		if err != nil {
			return command.Usagef("--exclude %q: %v", p, err)
		}
		r.exclude = append(r.exclude, re)
	}
	from, err := filepath.Abs(o.From)
	if err != nil {
		return err
	}
	to, err := gridPath(f, o.To)
	if err != nil {
		return err
	}
	n, err := f.Node()
	if err != nil {
		return err
	}
	if r.db, err = backupdb.Open(ctx, n.Path("private", "backupdb.sqlite")); err != nil {
		fmt.Fprintln(f.IO.Err, err)
		fmt.Fprintln(f.IO.Err, "ERROR: Unable to load backup db.")
		return command.Reported(1)
	}
	defer r.db.Close()
	if r.s, err = f.Store(); err != nil {
		return err
	}
	archivesPath := to.Join("Archives")
	archives, err := filestore.MkdirAll(ctx, r.s, archivesPath, filestore.FormatSDMF)
	if err != nil {
		return fmt.Errorf("Unable to create target directory: %w", err)
	}
	var targets []backupTarget
	r.collect(from, &targets)
	r.total = len(targets)
	// Files are uploaded a few at a time ahead of the loop, which takes
	// their results in Tahoe's order (a directory after its children).
	files := r.startFiles(ctx, targets)
	defer files.stop()
	children := map[string]map[string]backupChild{} // dir path -> name -> child
	var last string
	for i, t := range targets {
		parent, name := filepath.Dir(t.path), filepath.Base(t.path)
		switch {
		case t.skip != "":
			fmt.Fprintln(f.IO.Err, t.skip)
			if t.isDir {
				r.dirsSkipped++
			} else {
				r.filesSkipped++
			}
		case t.isDir:
			c, err := r.directory(t.path, children[t.path])
			if err != nil {
				return err
			}
			delete(children, t.path)
			if children[parent] == nil {
				children[parent] = map[string]backupChild{}
			}
			children[parent][name] = c
			last = c.cap
		default:
			res := files.byTarget[i].wait()
			for _, l := range res.log {
				fmt.Fprintln(f.IO.Out, l)
			}
			if res.err != nil {
				return res.err
			}
			if res.skip != "" {
				fmt.Fprintln(f.IO.Err, res.skip)
				r.filesSkipped++
				break
			}
			if res.created {
				r.filesCreated++
			} else {
				r.filesReused++
			}
			if children[parent] == nil {
				children[parent] = map[string]backupChild{}
			}
			children[parent][name] = res.child
		}
		fmt.Fprintf(f.IO.Out, "Backing up %d/%d... %s elapsed...\n", r.done(), r.total, formatElapsed(now().Sub(r.start)))
	}
	if last == "" {
		return fmt.Errorf("nothing backed up: %s could not be read", from)
	}
	dircap, err := caps.Parse(last)
	if err != nil {
		return err
	}
	stamp := time.Unix(now().Unix(), 0).UTC().Format("2006-01-02_15:04:05") + "Z"
	if err := r.s.Link(ctx, archives, stamp, dircap, true); err != nil {
		return fmt.Errorf("Error during put_child: %w", err)
	}
	toDir, err := filestore.Lookup(ctx, r.s, to)
	if err != nil {
		return err
	}
	if err := r.s.Link(ctx, toDir, "Latest", dircap, true); err != nil {
		return fmt.Errorf("Error during put_child: %w", err)
	}
	if !f.IO.Quiet {
		fmt.Fprintf(f.IO.Out, " %d files uploaded (%d reused), %d files skipped, %d directories created (%d reused), %d directories skipped\n",
			r.filesCreated, r.filesReused, r.filesSkipped, r.dirsCreated, r.dirsReused, r.dirsSkipped)
	}
	if o.Verbose {
		fmt.Fprintf(f.IO.Out, " %d files checked, %d directories checked\n", 0, 0)
	}
	fmt.Fprintf(f.IO.Out, " backup done, elapsed time: %s\n", formatTimedelta(now().Sub(r.start)))
	if r.filesSkipped > 0 || r.dirsSkipped > 0 {
		return command.Reported(2)
	}
	return nil
}

// backupParallel is how many files are uploaded at once.
const backupParallel = 8

// pendingFile is a file's backup under way.
type pendingFile struct {
	done chan struct{}
	res  fileResult
}

func (p *pendingFile) wait() fileResult { <-p.done; return p.res }

// pendingFiles are the file targets' backups, by target index.
type pendingFiles struct {
	byTarget map[int]*pendingFile
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// stop cancels what is still running and waits for it.
func (p *pendingFiles) stop() { p.cancel(); p.wg.Wait() }

// startFiles starts backing up every file target, backupParallel at a
// time in target order, on goroutines that stop joins.
func (r *backupRun) startFiles(ctx context.Context, targets []backupTarget) *pendingFiles {
	ctx, cancel := context.WithCancel(ctx)
	p := &pendingFiles{byTarget: map[int]*pendingFile{}, cancel: cancel}
	var order []int
	for i, t := range targets {
		if !t.isDir && t.skip == "" {
			p.byTarget[i] = &pendingFile{done: make(chan struct{})}
			order = append(order, i)
		}
	}
	next := make(chan int)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(next)
		for _, i := range order {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	run := *r
	run.ctx = ctx
	for w := 0; w < backupParallel; w++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for i := range next {
				pf := p.byTarget[i]
				pf.res = run.file(targets[i].path)
				close(pf.done)
			}
		}()
	}
	return p
}

func (r *backupRun) done() int {
	return r.filesCreated + r.filesReused + r.filesSkipped + r.dirsCreated + r.dirsReused + r.dirsSkipped
}

func (r *backupRun) verbose(format string, a ...any) {
	if r.o.Verbose {
		fmt.Fprintf(r.f.IO.Out, format+"\n", a...)
	}
}

func (r *backupRun) excluded(name string) bool {
	for _, re := range r.exclude {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// collect appends the targets under dir, deepest first, then dir.
func (r *backupRun) collect(dir string, out *[]backupTarget) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		*out = append(*out, backupTarget{path: dir, isDir: true, skip: fmt.Sprintf("WARNING: permission denied on directory '%s'", dir)})
		return
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if !r.excluded(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			*out = append(*out, backupTarget{path: p, skip: fmt.Sprintf("WARNING: permission denied on file '%s'", p)})
		case fi.Mode()&fs.ModeSymlink != 0:
			*out = append(*out, backupTarget{path: p, skip: fmt.Sprintf("WARNING: cannot backup symlink '%s'", p)})
		case fi.IsDir():
			r.collect(p, out)
		case fi.Mode().IsRegular():
			*out = append(*out, backupTarget{path: p})
		default:
			*out = append(*out, backupTarget{path: p, skip: fmt.Sprintf("WARNING: cannot backup special '%s'", p)})
		}
	}
	*out = append(*out, backupTarget{path: dir, isDir: true})
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
	child   backupChild
	created bool   // uploaded (else reused)
	skip    string // the warning, when it could not be read
	log     []string
	err     error
}

// file backs up one file: reused when the database knows it unchanged,
// else uploaded. It may run on several files at once; it prints nothing
// (the verbose lines are returned in order).
func (r *backupRun) file(path string) (res fileResult) {
	logf := func(format string, a ...any) {
		if r.o.Verbose {
			res.log = append(res.log, fmt.Sprintf(format, a...))
		}
	}
	res.child, res.created, res.err = r.uploadFile(path, logf)
	var pe *fs.PathError
	if errors.As(res.err, &pe) && pe.Op == "open" {
		res.skip, res.err = fmt.Sprintf("WARNING: permission denied on file '%s'", path), nil
	}
	return res
}

func (r *backupRun) uploadFile(path string, logf func(string, ...any)) (backupChild, bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return backupChild{}, false, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return backupChild{}, false, err
	}
	md, st := localMetadata(fi)
	res, err := r.db.CheckFile(r.ctx, path, st, !r.o.IgnoreTimestamps)
	if err != nil {
		return backupChild{}, false, err
	}
	if res.Cap != "" && !res.ShouldCheck {
		logf("skipping '%s'..", path)
		return backupChild{kind: "filenode", cap: res.Cap, metadata: md}, false, nil
	}
	// New, changed, or due a check: upload (convergence makes a re-upload
	// of unchanged bytes a check that renews what is there).
	logf("uploading '%s'..", path)
	up, err := r.s.Upload(r.ctx, fh, fi.Size(), filestore.UploadOptions{})
	if err != nil {
		return backupChild{}, false, fmt.Errorf("Error during file PUT of %s: %w", path, err)
	}
	filecap := up.Cap.String()
	logf(" %s -> %s", path, filecap)
	if err := r.db.DidUploadFile(r.ctx, res, filecap); err != nil {
		return backupChild{}, false, err
	}
	return backupChild{kind: "filenode", cap: filecap, metadata: md}, true, nil
}

// directory makes (or reuses) the immutable directory of a local
// directory whose children are done.
func (r *backupRun) directory(path string, kids map[string]backupChild) (backupChild, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return backupChild{}, err
	}
	md, _ := localMetadata(fi)
	compare := make(map[string]string, len(kids))
	for name, k := range kids {
		compare[name] = k.cap
	}
	res, err := r.db.CheckDirectory(r.ctx, compare)
	if err != nil {
		return backupChild{}, err
	}
	if res.Cap != "" && !res.ShouldCheck {
		r.verbose(" re-using old directory for '%s'", path)
		r.dirsReused++
		return backupChild{kind: "dirnode", cap: res.Cap, metadata: md}, nil
	}
	r.verbose(" creating directory for '%s'", path)
	names := make([]string, 0, len(kids))
	for n := range kids {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := make([]dirnode.Entry, 0, len(kids))
	for _, n := range names {
		entries = append(entries, dirnode.Entry{Name: n, ROCap: kids[n].cap, Metadata: kids[n].metadata})
	}
	dircap, err := r.s.Mkdir(r.ctx, filestore.MkdirOptions{Format: filestore.FormatCHK, Children: entries})
	if err != nil {
		return backupChild{}, fmt.Errorf("Error during mkdir of %s: %w", path, err)
	}
	if err := r.db.DidCreateDirectory(r.ctx, res, dircap.String()); err != nil {
		return backupChild{}, err
	}
	r.dirsCreated++
	return backupChild{kind: "dirnode", cap: dircap.String(), metadata: md}, nil
}

// formatElapsed is Tahoe's progress time, "0h 0m 3s".
func formatElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%dh %dm %ds", s/3600, (s/60)%60, s%60)
}

// formatTimedelta is str(timedelta) without the fraction, "0:00:03".
func formatTimedelta(d time.Duration) string {
	s := int(d.Seconds())
	days := s / 86400
	s %= 86400
	out := fmt.Sprintf("%d:%02d:%02d", s/3600, (s/60)%60, s%60)
	if days > 0 {
		plural := "s"
		if days == 1 {
			plural = ""
		}
		out = fmt.Sprintf("%d day%s, %s", days, plural, out)
	}
	return out
}
