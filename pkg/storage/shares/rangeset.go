package shares

import (
	"sort"

	"github.com/lafs/lafs/pkg/storage"
)

// span is a half-open interval [begin, end).
type span struct{ begin, end int64 }

// rangeSet is a set of byte offsets kept as sorted, disjoint, non-adjacent
// spans. add, overlaps and missing are O(log n + k).
type rangeSet struct {
	spans []span
	total int64
}

// add inserts [b, e).
func (r *rangeSet) add(b, e int64) {
	if b >= e {
		return
	}
	// First span that ends at or after b (may merge).
	i := sort.Search(len(r.spans), func(i int) bool { return r.spans[i].end >= b })
	j := i
	nb, ne := b, e
	for j < len(r.spans) && r.spans[j].begin <= e {
		nb = min(nb, r.spans[j].begin)
		ne = max(ne, r.spans[j].end)
		r.total -= r.spans[j].end - r.spans[j].begin
		j++
	}
	r.total += ne - nb
	r.spans = append(r.spans[:i], append([]span{{nb, ne}}, r.spans[j:]...)...)
}

// overlaps returns the parts of [b, e) already in the set.
func (r *rangeSet) overlaps(b, e int64) []span {
	i := sort.Search(len(r.spans), func(i int) bool { return r.spans[i].end > b })
	var out []span
	for ; i < len(r.spans) && r.spans[i].begin < e; i++ {
		out = append(out, span{max(b, r.spans[i].begin), min(e, r.spans[i].end)})
	}
	return out
}

// covered is the number of bytes in the set.
func (r *rangeSet) covered() int64 { return r.total }

// missing is the complement of the set within [0, size).
func (r *rangeSet) missing(size int64) []storage.Range {
	out := []storage.Range{}
	pos := int64(0)
	for _, s := range r.spans {
		if s.begin > pos {
			out = append(out, storage.Range{Begin: uint64(pos), End: uint64(s.begin)})
		}
		pos = s.end
	}
	if pos < size {
		out = append(out, storage.Range{Begin: uint64(pos), End: uint64(size)})
	}
	return out
}
