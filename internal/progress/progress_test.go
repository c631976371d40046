package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLine(t *testing.T) {
	got := Line("put", 50<<20, 100<<20, 5*time.Second, 10)
	want := "put [=====     ]  50% 50.0 MiB/100.0 MiB 10.0 MiB/s ETA 5s"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := Line("", 2048, -1, time.Second, 10); got != "2.0 KiB 2.0 KiB/s" {
		t.Fatalf("unknown total: %q", got)
	}
}

func TestBarDrawsAndFinishes(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "get", 100)
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	b.start = clock
	clock = clock.Add(time.Second)
	b.Add(50)
	b.Finish()
	out := buf.String()
	if !strings.Contains(out, " 50%") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("output %q", out)
	}
	n := buf.Len()
	b.Add(10) // after Finish: nothing more is drawn
	if buf.Len() != n {
		t.Fatal("bar drew after Finish")
	}
	Nop().Add(5)
	Nop().Finish()
}

// TestFiles: with file counting on, the line shows files done of total
// before the bytes, and on a narrow terminal the bar narrows (then the
// line is cut) so a redraw never wraps.
func TestFiles(t *testing.T) {
	st := State{Label: "cp", Done: 3250585, Total: 50331648, Elapsed: 2 * time.Second, Files: 12, FilesTotal: 200}
	want := "cp [          ]   6% 12/200 files, 3.1 MiB/48.0 MiB 1.5 MiB/s ETA 29s"
	if got := st.Fit(10, 0); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	for _, cols := range []int{80, 60, 40, 20} {
		got := st.Fit(24, cols)
		if n := len([]rune(got)); n >= cols {
			t.Errorf("%d columns: a line of %d: %q", cols, n, got)
		}
		if !strings.Contains(got, "12/200 files") && cols >= 60 {
			t.Errorf("%d columns: the file count is gone: %q", cols, got)
		}
	}
	if got := (State{Label: "cp", Done: 2048, Total: -1, Elapsed: time.Second, Files: 3, FilesTotal: -1}).Fit(10, 0); got != "cp 3 files, 2.0 KiB 2.0 KiB/s" {
		t.Fatalf("unknown totals: %q", got)
	}
	var buf bytes.Buffer
	b := New(&buf, "cp", 100)
	b.CountFiles(2)
	b.AddFile()
	b.Add(100)
	b.AddFile()
	b.Finish()
	if !strings.Contains(buf.String(), "2/2 files, 100 B/100 B") {
		t.Fatalf("bar: %q", buf.String())
	}
	Nop().AddFile()
}
