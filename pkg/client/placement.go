package client

import "github.com/lafs/lafs/pkg/happiness"

// planFor runs the happiness plan over the servers that answered (and have
// not failed since).
func planFor(cands []*candidate, total int) (map[int]*candidate, int) {
	var live []*candidate
	for _, cd := range cands {
		if cd.ok {
			live = append(live, cd)
		}
	}
	in := happiness.Input{NumServers: len(live), ReadOnly: make([]bool, len(live)), Existing: make([][]int, len(live))}
	for i, cd := range live {
		in.ReadOnly[i] = cd.readOnly
		in.Existing[i] = cd.existing
	}
	for sh := 0; sh < total; sh++ {
		in.Shares = append(in.Shares, sh)
	}
	p := happiness.Plan(in)
	out := make(map[int]*candidate, len(p))
	for sh, i := range p {
		out[sh] = live[i]
	}
	return out, p.Happiness()
}
