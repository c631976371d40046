package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The tables of the report, in order.
const (
	sectionSpeed = "Rates and times"
	sectionRSS   = "Peak RSS of the client process"
	sectionCPU   = "CPU time of the client process (user + system)"
)

var sections = []string{sectionSpeed, sectionRSS, sectionCPU}

// results are the samples of every measurement, in the order first seen.
type results struct {
	order []key
	unit  map[key]string
	vals  map[key]map[string][]float64 // side → samples
}

// key names one measurement of one table.
type key struct{ section, name string }

func newResults() *results {
	return &results{unit: map[key]string{}, vals: map[key]map[string][]float64{}}
}

// add records one sample.
func (r *results) add(section, name, unit, side string, v float64) {
	k := key{section, name}
	if _, ok := r.vals[k]; !ok {
		r.order = append(r.order, k)
		r.unit[k] = unit
		r.vals[k] = map[string][]float64{}
	}
	r.vals[k][side] = append(r.vals[k][side], v)
}

// samples returns a measurement's samples of the first table holding it.
func (r *results) samples(name, side string) []float64 {
	for _, k := range r.order {
		if k.name == name {
			return r.vals[k][side]
		}
	}
	return nil
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cell is a median, with the range when there is more than one sample.
func cell(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	m := num(median(xs))
	if len(xs) == 1 {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, num(slices.Min(xs)), num(slices.Max(xs)))
}

// num rounds to three significant figures or to a whole number.
func num(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// aim is issue 17's target for a measurement ("" when it has none).
func aim(k key) string {
	name := k.name
	switch k.section {
	case sectionRSS:
		return "< 150"
	case sectionCPU:
		return ""
	}
	switch {
	case strings.HasPrefix(name, "local put"):
		return "≥ 250"
	case strings.HasPrefix(name, "local get"):
		return "≥ 500"
	case strings.HasPrefix(name, "gbs10 put"):
		return "≥ 150"
	case strings.HasPrefix(name, "gbs10 get"):
		return "≥ 300"
	case strings.HasPrefix(name, "gbs10 cp -r"):
		return "≥ 300"
	case strings.HasPrefix(name, "gbs10 ls"):
		return "≤ 30"
	}
	return ""
}

// report is the Markdown the driver prints: what was compared and on
// what machine, then one table per section.
func (b *bench) report() string {
	var w strings.Builder
	fmt.Fprintf(&w, "### bench-cli: base vs new, whole processes, 3-of-10\n\n")
	fmt.Fprintf(&w, "- base: %s\n- new: %s\n", b.labels[sideBase], b.labels[sideNew])
	fmt.Fprintf(&w, "- %s, %d CPUs, %s; %d round(s), base and new interleaved (base first in odd rounds); %s\n",
		b.started.UTC().Format("2006-01-02 15:04 UTC"), b.procs, b.goVersion, b.cfg.rounds, time.Since(b.started).Round(time.Second))
	fmt.Fprintf(&w, "- load average (1, 5, 15 min) at start: %s; at end: %s\n", b.loadStart, b.loadEnd)
	if len(b.sha) > 0 {
		s := median(b.sha)
		fmt.Fprintf(&w, "- SHA-256, one core (Go crypto/sha256, per second of the thread's CPU time): %s MiB/s (per wall second: %s); hashing alone holds one core to %s MiB/s for put (6.33× the file) and %s MiB/s for get (3×)\n",
			cell(b.sha), cell(b.shaWall), num(s/6.33), num(s/3))
	}
	fmt.Fprintf(&w, "- cells: median (min–max over rounds; ls: over every run); new ÷ base above 1 is better for rates, below 1 for ms, MiB and s; every get compared byte for byte with its source\n")
	fmt.Fprintf(&w, "- local: `tahoe create-client --local-grid=10` (its servers run inside the client process, so RSS and CPU include them); gbs10: `lafs grid up --servers 10 --needed 3 --happy 7 --total 10` (node processes on 127.0.0.1, TLS; RSS and CPU are the client's alone)\n")
	for _, sec := range sections {
		var rows []key
		for _, k := range b.res.order {
			if k.section == sec {
				rows = append(rows, k)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&w, "\n%s:\n\n| measure | unit | base | new | new ÷ base | aim |\n|---|---|--:|--:|--:|--:|\n", sec)
		for _, k := range rows {
			base, nw := b.res.vals[k][sideBase], b.res.vals[k][sideNew]
			ratio := "—"
			if mb := median(base); mb > 0 && len(nw) > 0 {
				ratio = fmt.Sprintf("%.2f", median(nw)/mb)
			}
			fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", k.name, b.res.unit[k], cell(base), cell(nw), ratio, aim(k))
		}
	}
	return w.String()
}
