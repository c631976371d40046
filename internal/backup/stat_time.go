package backup

// pyStatTime is a file time as Python's os.stat gives it (st_mtime,
// st_ctime): the seconds plus the nanoseconds times 1e-9, in float64.
// Tahoe's backup records these floats in the immutable directories it
// makes, so the directory caps depend on every bit: dividing the
// nanosecond count by 1e9 instead rounds twice (the count does not fit a
// float64's mantissa) and differs in the last digit.
func pyStatTime(sec, nsec int64) float64 {
	// The explicit conversion keeps the product rounded on its own, as
	// CPython does: Go may otherwise fuse the multiply and add (FMA).
	return float64(sec) + float64(float64(nsec)*1e-9)
}
