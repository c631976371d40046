package health

import (
	"fmt"
	"io"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
)

// WriteCheck prints check results as `tahoe check` does without --repair:
// the summary ("Healthy (LIT)" for a LIT file), the storage index, the
// share counts (not for LIT) and any corrupt shares.
func WriteCheck(w io.Writer, r *Results) error {
	var b strings.Builder
	if r == nil || r.IsLiteral() {
		fmt.Fprintf(&b, "Summary: %s\n", QuoteOutput("Healthy (LIT)", false))
		fmt.Fprintf(&b, " storage index: \n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Summary: %s\n", QuoteOutput(r.Summary, false))
	fmt.Fprintf(&b, " storage index: %s\n", QuoteOutput(r.StorageIndexString(), false))
	fmt.Fprintf(&b, " good-shares: %d (encoding is %d-of-%d)\n", r.SharesGood, r.SharesNeeded, r.SharesExpected)
	fmt.Fprintf(&b, " wrong-shares: %d\n", r.WrongShares)
	writeCorrupt(&b, r.CorruptShares, " corrupt shares:\n", "  ")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCheckAndRepair prints check-and-repair results as `tahoe check
// --repair` does: healthy or not before the repair, the pre-repair counts,
// corrupt shares, and whether the repair worked. (Tahoe's own command
// fails on a LIT file here; this prints the LIT summary instead.)
func WriteCheckAndRepair(w io.Writer, c *CheckAndRepair) error {
	if c == nil || c.IsLiteral() {
		return WriteCheck(w, nil)
	}
	var b strings.Builder
	summary := "not healthy"
	if c.Pre.Healthy {
		summary = "healthy"
	}
	fmt.Fprintf(&b, "Summary: %s\n", summary)
	r := c.Pre
	fmt.Fprintf(&b, " storage index: %s\n", QuoteOutput(caps.Base32Encode(c.StorageIndex), false))
	fmt.Fprintf(&b, " good-shares: %d (encoding is %d-of-%d)\n", r.SharesGood, r.SharesNeeded, r.SharesExpected)
	fmt.Fprintf(&b, " wrong-shares: %d\n", r.WrongShares)
	writeCorrupt(&b, r.CorruptShares, " corrupt shares:\n", "  ")
	if c.RepairAttempted {
		if c.RepairSuccessful {
			b.WriteString(" repair successful\n")
		} else {
			b.WriteString(" repair failed\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCorrupt(b *strings.Builder, ls []ShareLocator, heading, indent string) {
	if len(ls) == 0 {
		return
	}
	b.WriteString(heading)
	for _, l := range ls {
		fmt.Fprintf(b, "%s%s\n", indent, quoteLocator(l))
	}
}

// quoteLocator is Tahoe's "server X, SI Y, shnum N".
func quoteLocator(l ShareLocator) string {
	return fmt.Sprintf("server %s, SI %s, shnum %d", QuoteOutput(l.Server, false), QuoteOutput(caps.Base32Encode(l.StorageIndex), false), l.Share)
}

// DeepLine is one object of a deep check as `tahoe deep-check` sees it in
// the stream-deep-check answer.
type DeepLine struct {
	Path []string
	// Type is "file", "directory" or "unknown".
	Type string
	// StorageIndex is "" for LIT files and unknown objects.
	StorageIndex string
	// Check is set by a plain deep check, Repair by a deep check and repair.
	Check  *Results
	Repair *CheckAndRepair
}

// DeepPrinter prints a deep check as `tahoe deep-check` does: a progress
// line every 100 objects, one line per object with Verbose, every corrupt
// share and repair, and the totals from Done.
type DeepPrinter struct {
	W       io.Writer
	Verbose bool
	// Repairing selects `deep-check --repair`'s output.
	Repairing bool

	objects                    int
	healthy, unhealthy         int
	postHealthy, postUnhealthy int
	attempted, successful      int
}

// Add prints one object; lines whose Type is neither file nor directory
// are skipped, as Tahoe's command does.
func (p *DeepPrinter) Add(l DeepLine) error {
	if l.Type != "file" && l.Type != "directory" {
		return nil
	}
	var b strings.Builder
	p.objects++
	if p.objects%100 == 0 {
		fmt.Fprintf(&b, "%d objects checked..\n", p.objects)
	}
	path := l.Path
	if len(path) == 0 {
		path = []string{"<root>"}
	}
	if !p.Repairing {
		r := l.Check
		if r == nil {
			r = Literal()
		}
		if r.Healthy {
			p.healthy++
		} else {
			p.unhealthy++
		}
		if p.Verbose {
			summary := r.Summary
			if r.IsLiteral() {
				summary = "Healthy (LIT)"
			}
			fmt.Fprintf(&b, "%s: %s\n", QuotePath(path), QuoteOutput(summary, false))
		}
		for _, c := range r.CorruptShares {
			fmt.Fprintf(&b, " corrupt: %s\n", quoteLocator(c))
		}
	} else {
		c := l.Repair
		if c == nil {
			c = LiteralRepair()
		}
		wasHealthy := true
		if l.StorageIndex != "" && !c.IsLiteral() {
			wasHealthy = c.Pre.Healthy
			if c.Post.Healthy {
				p.postHealthy++
			} else {
				p.postUnhealthy++
			}
		} else {
			p.postHealthy++
		}
		if wasHealthy {
			p.healthy++
		} else {
			p.unhealthy++
		}
		if c.RepairAttempted {
			p.attempted++
			if c.RepairSuccessful {
				p.successful++
			}
		}
		if p.Verbose {
			summary := "not healthy"
			if wasHealthy {
				summary = "healthy"
			}
			fmt.Fprintf(&b, "%s: %s\n", QuotePath(path), summary)
		}
		if !c.IsLiteral() {
			for _, s := range c.Pre.CorruptShares {
				fmt.Fprintf(&b, " corrupt: %s\n", quoteLocator(s))
			}
		}
		if c.RepairAttempted {
			if c.RepairSuccessful {
				b.WriteString(" repair successful\n")
			} else {
				b.WriteString(" repair failed\n")
			}
		}
	}
	_, err := io.WriteString(p.W, b.String())
	return err
}

// Done prints the totals.
func (p *DeepPrinter) Done() error {
	var s string
	if !p.Repairing {
		s = fmt.Sprintf("done: %d objects checked, %d healthy, %d unhealthy\n", p.objects, p.healthy, p.unhealthy)
	} else {
		s = fmt.Sprintf("done: %d objects checked\n pre-repair: %d healthy, %d unhealthy\n %d repairs attempted, %d successful, %d failed\n post-repair: %d healthy, %d unhealthy\n",
			p.objects, p.healthy, p.unhealthy, p.attempted, p.successful, p.attempted-p.successful, p.postHealthy, p.postUnhealthy)
	}
	_, err := io.WriteString(p.W, s)
	return err
}

// Unhealthy reports how many objects were unhealthy (after repair, when
// repairing).
func (p *DeepPrinter) Unhealthy() int {
	if p.Repairing {
		return p.postUnhealthy
	}
	return p.unhealthy
}
