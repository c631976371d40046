package happiness

import (
	"math/rand"
	"strconv"
	"testing"
)

func benchInput(servers int, dense bool) Input {
	rng := rand.New(rand.NewSource(int64(servers)))
	in := Input{NumServers: servers, ReadOnly: make([]bool, servers), Existing: make([][]int, servers)}
	for sh := 0; sh < 255; sh++ {
		in.Shares = append(in.Shares, sh)
	}
	for i := 0; i < servers; i++ {
		in.ReadOnly[i] = rng.Intn(10) == 0
		if dense {
			in.Existing[i] = in.Shares
			continue
		}
		for j := rng.Intn(4); j > 0; j-- {
			in.Existing[i] = append(in.Existing[i], rng.Intn(255))
		}
	}
	return in
}

// BenchmarkPlan: 255 shares over 1,000 and 10,000 servers holding random
// existing shares (a tenth read-only), and the dense case where every
// server holds every share.
func BenchmarkPlan(b *testing.B) {
	for _, c := range []struct {
		servers int
		dense   bool
	}{{1000, false}, {10000, false}, {1000, true}, {10000, true}} {
		name := strconv.Itoa(c.servers) + "-servers"
		if c.dense {
			name += "-dense"
		}
		in := benchInput(c.servers, c.dense)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := Plan(in)
				if len(p) != 255 {
					b.Fatalf("placed %d shares", len(p))
				}
			}
		})
	}
}

func BenchmarkMeasure(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		in := benchInput(n, true)
		b.Run(strconv.Itoa(n)+"-servers-dense", func(b *testing.B) {
			for b.Loop() {
				if MeasureIndexed(in.Existing) != 255 {
					b.Fatal("wrong happiness")
				}
			}
		})
	}
}
