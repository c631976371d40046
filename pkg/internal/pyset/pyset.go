// Package pyset reproduces the iteration order of CPython 3.11 sets of small
// non-negative integers. Tahoe-LAFS walks such sets in places where the
// order reaches its output (the order of a share's hash chain, the shares a
// placement keeps); matching Tahoe byte for byte means matching that order.
package pyset

import "sort"

// Order returns the order in which CPython 3.11 iterates
// set(values) for small non-negative integers, values inserted in the given
// order. Tahoe's placement code walks sets of share numbers, so where its
// answer does not depend on anything else (the hash of an int is the int),
// that order decides which of a server's shares it keeps; following it makes
// our placement equal Tahoe's in exactly those cases.
//
// The model: the table starts with 8 slots; an int lands in slot
// value&mask, else in the next of up to 9 following slots when they fit,
// else the probe jumps (i = 5i + 1 + perturb, perturb shifted right by 5
// each time, starting at the value). After an insertion that makes
// fill*5 >= mask*3, the table grows to the smallest power of two above
// 4*used and the entries are re-inserted in slot order. Iteration is in
// slot order.
func Order(values []int) []int {
	// Fast path: when every value is below the final table size, each sits
	// in its own slot and the order is ascending.
	if asc, ok := ascendingFits(values); ok {
		return asc
	}
	const linearProbes = 9
	const minSize = 8
	type slot struct {
		v    int
		used bool
	}
	table := make([]slot, minSize)
	used := 0
	insert := func(table []slot, v int) bool { // false when already present
		mask := uint(len(table) - 1)
		perturb := uint(v)
		i := uint(v) & mask
		for {
			probes := 0
			if i+linearProbes <= mask {
				probes = linearProbes
			}
			for j := uint(0); j <= uint(probes); j++ {
				e := &table[i+j]
				if !e.used {
					e.v, e.used = v, true
					return true
				}
				if e.v == v {
					return false
				}
			}
			perturb >>= 5
			i = (i*5 + 1 + perturb) & mask
		}
	}
	for _, v := range values {
		if v < 0 {
			continue
		}
		if !insert(table, v) {
			continue
		}
		used++
		mask := len(table) - 1
		if used*5 >= mask*3 {
			size := minSize
			for size <= used*4 {
				size <<= 1
			}
			grown := make([]slot, size)
			for _, e := range table {
				if e.used {
					insert(grown, e.v)
				}
			}
			table = grown
		}
	}
	out := make([]int, 0, used)
	for _, e := range table {
		if e.used {
			out = append(out, e.v)
		}
	}
	return out
}

// ascendingFits returns the sorted distinct values when all of them are
// below the size the set's table ends with (so no two collide).
func ascendingFits(values []int) ([]int, bool) {
	u := Sorted(values)
	if len(u) == 0 || u[0] < 0 {
		return u, len(u) == 0
	}
	size, used := 8, 0
	for range u {
		used++
		if used*5 >= (size-1)*3 {
			for size = 8; size <= used*4; size <<= 1 {
			}
		}
	}
	return u, u[len(u)-1] < size
}

// Sorted returns the distinct values in ascending order (the iteration
// order of a set whose values all fit its table). It returns s itself when
// it is already sorted and free of repeats.
func Sorted(s []int) []int {
	if sort.IntsAreSorted(s) {
		ok := true
		for i := 1; i < len(s); i++ {
			if s[i] == s[i-1] {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
	}
	out := append([]int(nil), s...)
	sort.Ints(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}
