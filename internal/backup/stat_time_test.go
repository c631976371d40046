package backup

import (
	"testing"
	"time"
)

// TestPyStatTime: file times print as Python's repr of os.stat's floats
// (the expected strings are Python 3's, for the same seconds and
// nanoseconds); the first case is the mtime of a real backup whose
// directory cap differed from Tahoe's by that one digit.
func TestPyStatTime(t *testing.T) {
	for _, tc := range []struct {
		sec, nsec int64
		want      string
	}{
		{1796129711, 765464438, "1796129711.7654645"},
		{1764580000, 250000000, "1764580000.25"},
		{1700000000, 999999999, "1700000001.0"},
		{1234567890, 123456789, "1234567890.1234567"},
		{1999999999, 987654321, "1999999999.9876542"},
	} {
		if got := pyFloat(pyStatTime(tc.sec, tc.nsec)); got != tc.want {
			t.Errorf("%d.%09d: %s, want %s", tc.sec, tc.nsec, got, tc.want)
		}
	}
	// What the backup did before: one bit off.
	if old := pyFloat(float64(time.Unix(1796129711, 765464438).UnixNano()) / 1e9); old == "1796129711.7654645" {
		t.Fatalf("the nanosecond division now agrees with Python (%s): the case no longer pins the bug", old)
	}
}
