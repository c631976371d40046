package lafscmd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lafs/lafs/internal/command"
)

// table prints rows for people: on a terminal, aligned columns under a
// header, fitted to the terminal's width by truncating one column (a cap)
// with "…" unless wide; piped, tab-separated rows with no header, nothing
// truncated, for cut and awk. Cells must already be safe (safeName).
type table struct {
	f      *command.Factory
	header []string
	rows   [][]string
	// shrink is the column cut to fit the width (-1: none).
	shrink int
	wide   bool
}

func newTable(f *command.Factory, header ...string) *table {
	return &table{f: f, header: header, shrink: -1}
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// width is the terminal's width: IO.Width, else $COLUMNS, else 80.
func (t *table) width() int {
	if t.f.IO.Width > 0 {
		return t.f.IO.Width
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

func (t *table) flush() error {
	w := t.f.IO.Out
	if !t.f.IO.OutTTY {
		for _, r := range t.rows {
			if _, err := fmt.Fprintln(w, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 2 * (len(widths) - 1)
	for _, n := range widths {
		total += n
	}
	if over := total - t.width(); over > 0 && t.shrink >= 0 && !t.wide {
		widths[t.shrink] = max(utf8.RuneCountInString(t.header[t.shrink]), 12, widths[t.shrink]-over)
	}
	for _, r := range append([][]string{t.header}, t.rows...) {
		var b strings.Builder
		for i, c := range r {
			c = truncate(c, widths[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// truncate cuts s to n runes, the last one "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
