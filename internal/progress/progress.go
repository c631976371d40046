// Package progress draws a one-line progress bar (bytes done, rate, ETA) on
// a terminal. It is for people only: callers create one when their error
// stream is a terminal and the user did not ask for quiet, and otherwise use
// Nop, so piped and scripted runs never see it.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar for a transfer of a known (or unknown, total < 0)
// number of bytes. It is safe for concurrent use; Add may be called from
// many goroutines.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int64
	done    int64
	start   time.Time
	last    time.Time
	now     func() time.Time
	width   int
	cols    int // the terminal's columns (0: unknown)
	drawn   bool
	stopped bool

	// counting files: filesDone of filesTotal (shown when countFiles)
	countFiles            bool
	filesDone, filesTotal int
}

// New returns a bar writing to w (normally the terminal's stderr).
func New(w io.Writer, label string, total int64) *Bar {
	return &Bar{w: w, label: label, total: total, now: time.Now, width: 24, start: time.Now()}
}

// Nop returns a bar that draws nothing.
func Nop() *Bar { return &Bar{stopped: true} }

// Add records n more bytes done and redraws at most ten times a second.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.stopped {
		return
	}
	if t := b.now(); t.Sub(b.last) >= 100*time.Millisecond {
		b.last = t
		b.draw(t)
	}
}

// CountFiles makes the bar show files done of total (total < 0:
// unknown) before the bytes: "12/200 files, 3.1 MiB/48.0 MiB".
func (b *Bar) CountFiles(total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.countFiles, b.filesTotal = true, total
}

// FitTo keeps each drawn line within cols terminal columns (narrowing
// the bar, then cutting the line), so a redraw never wraps.
func (b *Bar) FitTo(cols int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cols = cols
}

// AddFile records one more file done.
func (b *Bar) AddFile() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.filesDone++
}

// Note prints a line of its own (a warning) to w: on the bar's line,
// which it clears first, the bar redrawn below it. A stopped bar just
// prints it.
func (b *Bar) Note(w io.Writer, line string) {
	if b == nil {
		fmt.Fprintln(w, line)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped || !b.drawn {
		fmt.Fprintln(w, line)
		return
	}
	fmt.Fprint(b.w, "\r\033[K")
	fmt.Fprintln(w, line)
	b.draw(b.now())
}

// Write lets a Bar count bytes passing through an io.Writer chain.
func (b *Bar) Write(p []byte) (int, error) {
	b.Add(int64(len(p)))
	return len(p), nil
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.draw(b.now())
	fmt.Fprintln(b.w)
	b.stopped = true
}

// Abort clears the bar's line without a final draw (on errors, so the error
// message starts on a clean line).
func (b *Bar) Abort() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
	b.stopped = true
}

func (b *Bar) draw(t time.Time) {
	b.drawn = true
	st := State{Label: b.label, Done: b.done, Total: b.total, Elapsed: t.Sub(b.start), Files: -1}
	if b.countFiles {
		st.Files, st.FilesTotal = b.filesDone, b.filesTotal
	}
	fmt.Fprint(b.w, "\r\033[K"+st.Fit(b.width, b.cols))
}

// State is one moment of a transfer, as a bar shows it.
type State struct {
	Label       string
	Done, Total int64 // bytes (Total < 0: unknown)
	Elapsed     time.Duration
	// Files done of FilesTotal (FilesTotal < 0: unknown); Files < 0 shows
	// no file count.
	Files, FilesTotal int
}

// Fit renders s with a bar of at most width cells, narrowed (down to no
// bar) and then cut so the line has fewer than cols runes (cols 0: no
// limit).
func (s State) Fit(width, cols int) string {
	line := s.line(width)
	if cols <= 0 {
		return line
	}
	for n := len([]rune(line)); n >= cols && width > 0; n = len([]rune(line)) {
		width = max(0, width-(n-cols+1))
		line = s.line(width)
	}
	if r := []rune(line); len(r) >= cols {
		line = string(r[:max(0, cols-1)])
	}
	return line
}

// Line renders one state of a bar: label, bar, bytes, rate and ETA.
func Line(label string, done, total int64, elapsed time.Duration, width int) string {
	return State{Label: label, Done: done, Total: total, Elapsed: elapsed, Files: -1}.line(width)
}

func (s State) line(width int) string {
	label, done, total, elapsed := s.Label, s.Done, s.Total, s.Elapsed
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	var sb strings.Builder
	if label != "" {
		sb.WriteString(label)
		sb.WriteByte(' ')
	}
	files := ""
	switch {
	case s.Files >= 0 && s.FilesTotal >= 0:
		files = fmt.Sprintf("%d/%d files, ", s.Files, s.FilesTotal)
	case s.Files >= 0:
		files = fmt.Sprintf("%d files, ", s.Files)
	}
	if total > 0 {
		frac := float64(done) / float64(total)
		if frac > 1 {
			frac = 1
		}
		if width > 0 {
			filled := int(frac * float64(width))
			sb.WriteString("[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] ")
		}
		fmt.Fprintf(&sb, "%3.0f%% %s%s/%s", frac*100, files, Bytes(done), Bytes(total))
	} else {
		sb.WriteString(files + Bytes(done))
	}
	fmt.Fprintf(&sb, " %s/s", Bytes(int64(rate)))
	if total > 0 && rate > 0 && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, " ETA %s", eta.Round(time.Second))
	}
	return sb.String()
}

// Bytes formats a byte count with binary units: 512 B, 1.5 KiB, 3.0 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
