// Package happiness implements servers-of-happiness for Tahoe-LAFS uploads:
// Measure computes the happiness of a share map (the size of a maximum
// matching between servers and the shares they hold) and Plan computes where
// each share of an upload goes, following the "Upload Strategy of Happiness"
// of Tahoe's docs/specifications/servers-of-happiness.rst.
//
// It owns only the combinatorics: it neither asks servers what they hold nor
// uploads anything (pkg/client does both and calls Plan in between).
//
// # The plan
//
// Servers come in permuted order; a server is read-only when it is in the
// read-only set (too little space, or it failed during an upload). Shares are
// share numbers 0..255. The placement is built in steps:
//
//  1. M1: a maximum matching of read-only servers to shares they already
//     hold (those shares are kept, their leases renewed).
//  2. M2: a maximum matching of the remaining writable servers to shares
//     they already hold, among shares not in M1. Steps 1 and 2 run as one
//     matching: M1's servers stay matched, but a writable server may move
//     a read-only server to another share it holds along an augmenting
//     path, so that as many shares as possible stay where they are; and a
//     read-only server tries shares no writable server holds first.
//  3. M3: a maximum matching of the remaining writable servers to the
//     remaining shares (every writable server can take any share), using
//     shares nobody writable holds before shares that could stay put.
//  4. Shares still without a server ("homeless": there are more shares than
//     servers) stay on a writable server that already holds them when there
//     is one, else go to the writable server holding the fewest shares of
//     the placement so far. Read-only servers never take a homeless share.
//
// # Tie-break rules
//
// Every answer is deterministic. Within each matching, servers are tried in
// permuted order and each server tries its candidate shares in ascending
// order; a later server only displaces an earlier server's choice along an
// augmenting path, so the set of matched servers is the earliest possible
// (the lexicographically first maximum matching on the server side). A
// server takes the first free share it can before it displaces another. In
// steps 1 and 2 a server tries the shares it holds in the order Tahoe's own
// code meets them — CPython's iteration order of the set of those share
// numbers, which is ascending for small numbers (see internal/pyset) — so that
// wherever Tahoe's answer does not depend on hash seeds, ours is the same.
// In step 3 this reduces to pairing the free servers in
// order with the free shares in ascending order, those that no writable
// server holds first: an existing share is never uploaded anew while it
// can stay where it is at no cost to happiness (with read-only servers in
// play, which share each keeps can still cost a move that a min-cost
// matching would spare; Plan does not search for that). In step 4, homeless shares
// are handled in ascending order; a share held by several writable servers
// stays on the earliest; ties in load go to the earliest server.
//
// Candidates are the servers listed in Servers followed by read-only servers
// listed only in Readonly (in that list's order). A server named only in
// Existing is unreachable and gets nothing. With no server listed in Servers
// at all, nothing is placed (Tahoe's answer, kept for compatibility).
//
// # Complexity
//
// Matchings use augmenting paths over adjacency lists (Kuhn's algorithm with
// visited marks kept between failed searches), so memory is linear in the
// number of (server, share) holdings and time is O(256·E) at worst, where E
// is the number of holdings; the complete graph of step 3 is never built.
package happiness

import (
	"sort"

	"github.com/lafs/lafs/pkg/internal/pyset"
)

// MaxShare is the largest share number (zfec makes at most 256 shares).
const MaxShare = 255

// Input describes one placement problem with servers as indexes 0..n-1 in
// permuted order.
type Input struct {
	// NumServers is the number of candidate servers, in permuted order.
	NumServers int
	// ReadOnly[i] says server i takes no new shares.
	ReadOnly []bool
	// Shares are the share numbers to place.
	Shares []int
	// Existing[i] lists the shares server i already holds.
	Existing [][]int
}

// Placement maps share number to server index; absent shares are unplaced.
type Placement map[int]int

// Happiness is the number of distinct servers a placement uses, which for a
// placement (one server per share) equals its maximum matching.
func (p Placement) Happiness() int {
	seen := map[int]bool{}
	for _, s := range p {
		seen[s] = true
	}
	return len(seen)
}

// matcher finds a maximum matching between servers (left) and shares
// (right, 0..255) on a graph given by adjacency lists.
type matcher struct {
	adj        [][]int // server → candidate shares, built on first use
	built      []bool
	edges      func(u int) []int
	shareOwner [MaxShare + 1]int
	serverOf   []int // server → share, -1 when unmatched
	visited    []uint32
	stamp      uint32
}

func newMatcher(n int, edges func(u int) []int) *matcher {
	m := &matcher{adj: make([][]int, n), built: make([]bool, n), edges: edges, serverOf: make([]int, n), visited: make([]uint32, MaxShare+1)}
	for i := range m.shareOwner {
		m.shareOwner[i] = -1
	}
	for i := range m.serverOf {
		m.serverOf[i] = -1
	}
	return m
}

// neighbours returns server u's candidate shares, built on first use.
func (m *matcher) neighbours(u int) []int {
	if !m.built[u] {
		m.adj[u], m.built[u] = m.edges(u), true
	}
	return m.adj[u]
}

// try looks for an augmenting path from server u, trying its candidate
// shares in the order of its list (free ones first).
func (m *matcher) try(u int) bool {
	// A free share first: the common case, and it keeps chains short.
	for _, sh := range m.neighbours(u) {
		if m.shareOwner[sh] < 0 {
			m.visited[sh] = m.stamp
			m.shareOwner[sh] = u
			m.serverOf[u] = sh
			return true
		}
	}
	for _, sh := range m.neighbours(u) {
		if m.visited[sh] == m.stamp {
			continue
		}
		m.visited[sh] = m.stamp
		if o := m.shareOwner[sh]; o < 0 || m.try(o) {
			m.shareOwner[sh] = u
			m.serverOf[u] = sh
			return true
		}
	}
	return false
}

// run matches servers in order (the ones in order), stopping once limit
// shares are matched.
func (m *matcher) run(order []int, limit int) int {
	matched := 0
	m.stamp++
	for _, u := range order {
		if matched >= limit {
			break
		}
		if len(m.neighbours(u)) == 0 {
			continue
		}
		if m.try(u) {
			matched++
			// The matching changed: earlier dead ends may now lead somewhere.
			m.stamp++
			if m.stamp == 0 { // wrapped: clear marks
				clear(m.visited)
				m.stamp = 1
			}
		}
	}
	return matched
}

// Plan places in.Shares on the servers of in. See the package doc for the
// steps and tie-breaks.
func Plan(in Input) Placement {
	n := in.NumServers
	placement := Placement{}
	if n == 0 || len(in.Shares) == 0 {
		return placement
	}
	want := map[int]bool{}
	for _, sh := range in.Shares {
		if sh >= 0 && sh <= MaxShare {
			want[sh] = true
		}
	}
	readOnly := func(i int) bool { return i < len(in.ReadOnly) && in.ReadOnly[i] }
	holds := func(i int) []int {
		if i >= len(in.Existing) {
			return nil
		}
		return in.Existing[i]
	}
	usedServer := make([]bool, n)
	usedShare := map[int]bool{}

	heldByWritable := map[int]bool{}
	for i := 0; i < n; i++ {
		if !readOnly(i) {
			for _, sh := range holds(i) {
				heldByWritable[sh] = true
			}
		}
	}

	// Steps 1 and 2: M1 on read-only servers, then M2 on writable ones,
	// each over the shares the server already holds, as one matching:
	// read-only servers are matched first, and a writable server may then
	// move a read-only server to another share it holds along an
	// augmenting path (a matched server stays matched), so that as many
	// shares as possible stay on a server that holds them.
	order := make([]int, 0, n)
	for _, ro := range []bool{true, false} {
		for i := 0; i < n; i++ {
			if readOnly(i) == ro {
				order = append(order, i)
			}
		}
	}
	m := newMatcher(n, func(i int) []int {
		// A read-only server tries first the shares no writable server
		// holds, leaving the others to writable holders that can keep
		// them in step 4.
		var adj, later []int
		for _, sh := range pyset.Order(holds(i)) {
			switch {
			case !want[sh]:
			case readOnly(i) && heldByWritable[sh]:
				later = append(later, sh)
			default:
				adj = append(adj, sh)
			}
		}
		return append(adj, later...)
	})
	m.run(order, len(want))
	for i := 0; i < n; i++ {
		if sh := m.serverOf[i]; sh >= 0 {
			placement[sh] = i
			usedServer[i] = true
			usedShare[sh] = true
		}
	}

	// Step 3: M3 on the complete graph of free writable servers × free
	// shares: pair them in order, shares no writable server holds first.
	// A free share that a writable server already holds is moved to a
	// free server only when there are not enough unheld shares to go
	// round; otherwise it stays on its holder in step 4. Either way M3 has
	// the same size (so the same happiness), and fewer shares are
	// uploaded anew.
	free := make([]int, 0, len(want))
	for _, held := range []bool{false, true} {
		for sh := 0; sh <= MaxShare; sh++ {
			if want[sh] && !usedShare[sh] && heldByWritable[sh] == held {
				free = append(free, sh)
			}
		}
	}
	k := 0
	for i := 0; i < n && k < len(free); i++ {
		if readOnly(i) || usedServer[i] {
			continue
		}
		placement[free[k]] = i
		usedServer[i] = true
		usedShare[free[k]] = true
		k++
	}

	// Step 4: homeless shares.
	homeless := append([]int(nil), free[k:]...)
	sort.Ints(homeless)
	if len(homeless) == 0 {
		return placement
	}
	var writable []int
	for i := 0; i < n; i++ {
		if !readOnly(i) {
			writable = append(writable, i)
		}
	}
	if len(writable) == 0 {
		return placement // nowhere to put them: they stay unplaced
	}
	holder := map[int]int{} // share → earliest writable server holding it
	for _, i := range writable {
		for _, sh := range holds(i) {
			if _, ok := holder[sh]; !ok {
				holder[sh] = i
			}
		}
	}
	load := make([]int, n)
	for _, s := range placement {
		load[s]++
	}
	h := &loadHeap{load: load}
	for _, i := range writable {
		h.items = append(h.items, i)
	}
	var rest []int
	for _, sh := range homeless {
		if i, ok := holder[sh]; ok {
			placement[sh] = i
			load[i]++
			continue
		}
		rest = append(rest, sh)
	}
	h.init()
	for _, sh := range rest {
		i := h.items[0]
		placement[sh] = i
		load[i]++
		h.down(0)
	}
	return placement
}

// loadHeap is a min-heap of server indexes by (load, index).
type loadHeap struct {
	items []int
	load  []int
}

func (h *loadHeap) less(a, b int) bool {
	x, y := h.items[a], h.items[b]
	if h.load[x] != h.load[y] {
		return h.load[x] < h.load[y]
	}
	return x < y
}

func (h *loadHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *loadHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h.items[i], h.items[j] = h.items[j], h.items[i]
		i = j
	}
}

// MeasureIndexed returns the happiness of a share map given as server index
// → shares held: the size of a maximum matching of servers to shares.
func MeasureIndexed(holdings [][]int) int {
	m := newMatcher(len(holdings), func(i int) []int {
		var adj []int
		for _, sh := range pyset.Sorted(holdings[i]) {
			if sh >= 0 && sh <= MaxShare {
				adj = append(adj, sh)
			}
		}
		return adj
	})
	order := make([]int, len(holdings))
	for i := range order {
		order[i] = i
	}
	var seen [MaxShare + 1]bool
	distinct := 0
	for _, hs := range holdings {
		for _, sh := range hs {
			if sh >= 0 && sh <= MaxShare && !seen[sh] {
				seen[sh] = true
				distinct++
			}
		}
	}
	return m.run(order, distinct)
}

// Measure returns the happiness of a share map (server → shares it holds):
// the size of a maximum matching between servers and shares, Tahoe's
// servers_of_happiness.
func Measure(sharemap map[string][]int) int {
	ids := make([]string, 0, len(sharemap))
	for id := range sharemap {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	holdings := make([][]int, len(ids))
	for i, id := range ids {
		holdings[i] = sharemap[id]
	}
	return MeasureIndexed(holdings)
}
