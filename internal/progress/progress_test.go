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
