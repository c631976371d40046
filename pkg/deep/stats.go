package deep

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/health"
)

// StatsAPIVersion is the "api-version" of Tahoe's deep-stats JSON.
const StatsAPIVersion = 1

// Bucket is one range of the file-size histogram with its count.
type Bucket struct {
	Min, Max uint64
	Count    int
}

// Stats are Tahoe's deep-stats counters over a walk (the sizes of mutable
// files are not counted, as in Tahoe).
type Stats struct {
	ImmutableFiles, MutableFiles, LiteralFiles, Files, Directories, Unknown int
	SizeImmutableFiles, SizeLiteralFiles, SizeDirectories                   uint64
	LargestDirectory                                                        uint64
	LargestDirectoryChildren                                                int
	LargestImmutableFile                                                    uint64

	buckets [][2]uint64
	hist    map[[2]uint64]int
}

// Add counts one object of a walk.
func (s *Stats) Add(n Node) {
	switch {
	case n.Type == TypeUnknown:
		s.Unknown++
	case n.Type == TypeDirectory:
		s.Directories++
		s.enterDirectory(uint64(n.Size), n.Children)
	case n.Cap.IsMutable():
		s.Files++
		s.MutableFiles++
	default:
		s.Files++
		size, _ := n.Cap.SizeKnown()
		s.histogram(size)
		if n.Cap.Kind == caps.KindLIT {
			s.LiteralFiles++
			s.SizeLiteralFiles += size
		} else {
			s.ImmutableFiles++
			s.SizeImmutableFiles += size
			s.LargestImmutableFile = max(s.LargestImmutableFile, size)
		}
	}
}

func (s *Stats) enterDirectory(size uint64, children int) {
	s.SizeDirectories += size
	s.LargestDirectory = max(s.LargestDirectory, size)
	s.LargestDirectoryChildren = max(s.LargestDirectoryChildren, children)
}

// bucketOf returns the histogram range holding size: (0,0), (1,3), (4,10),
// (11,31), (32,100), ... two per decade, each upper bound the first power
// of sqrt(10) not below the lower bound, computed in floating point as
// Tahoe does so the bounds match its output exactly.
func (s *Stats) bucketOf(size uint64) [2]uint64 {
	if s.buckets == nil {
		s.buckets = [][2]uint64{{0, 0}, {1, 3}}
	}
	root := math.Sqrt(10)
	for i := 0; ; i++ {
		if i >= len(s.buckets) {
			lo := s.buckets[i-1][1] + 1
			p := 1.0
			for p < float64(lo) {
				p *= root
			}
			hi := uint64(math.MaxUint64)
			if p < math.MaxUint64 {
				hi = uint64(p)
			}
			s.buckets = append(s.buckets, [2]uint64{lo, hi})
		}
		b := s.buckets[i]
		if b[0] <= size && size <= b[1] {
			return b
		}
	}
}

func (s *Stats) histogram(size uint64) {
	if s.hist == nil {
		s.hist = map[[2]uint64]int{}
	}
	s.hist[s.bucketOf(size)]++
}

// Histogram returns the file-size histogram, smallest range first.
func (s *Stats) Histogram() []Bucket {
	out := make([]Bucket, 0, len(s.hist))
	for b, n := range s.hist {
		out = append(out, Bucket{b[0], b[1], n})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Min < out[b].Min })
	return out
}

// Object is the deep-stats JSON object in Tahoe's key order.
func (s *Stats) Object() health.Object {
	hist := make([]any, 0, len(s.hist))
	for _, b := range s.Histogram() {
		hist = append(hist, []any{b.Min, b.Max, b.Count})
	}
	return health.Object{
		{Key: "api-version", Value: StatsAPIVersion},
		{Key: "count-immutable-files", Value: s.ImmutableFiles},
		{Key: "count-mutable-files", Value: s.MutableFiles},
		{Key: "count-literal-files", Value: s.LiteralFiles},
		{Key: "count-files", Value: s.Files},
		{Key: "count-directories", Value: s.Directories},
		{Key: "count-unknown", Value: s.Unknown},
		{Key: "size-immutable-files", Value: s.SizeImmutableFiles},
		{Key: "size-literal-files", Value: s.SizeLiteralFiles},
		{Key: "size-directories", Value: s.SizeDirectories},
		{Key: "largest-directory", Value: s.LargestDirectory},
		{Key: "largest-directory-children", Value: s.LargestDirectoryChildren},
		{Key: "largest-immutable-file", Value: s.LargestImmutableFile},
		{Key: "size-files-histogram", Value: hist},
	}
}

// JSON is the body of a finished t=start-deep-stats operation: the stats
// with "finished", indented as Tahoe does.
func (s *Stats) JSON(finished bool) string {
	return health.PyJSON(append(s.Object(), health.Field{Key: "finished", Value: finished}), 1)
}

// TotalSize is deep-size: the sizes of immutable files and directories
// (mutable file sizes are not counted, as in Tahoe).
func (s *Stats) TotalSize() uint64 {
	return s.SizeImmutableFiles + s.SizeDirectories
}

// DeepStats walks the tree under root and returns its stats.
func DeepStats(ctx context.Context, st filestore.Store, root *caps.Cap, o Options) (*Stats, error) {
	s := &Stats{}
	err := Walk(ctx, st, root, o, func(_ context.Context, n Node) error {
		s.Add(n)
		return nil
	})
	return s, err
}

// WriteStats prints stats as `tahoe stats` does: the counts and total
// sizes (sizes above 1000 bytes also abbreviated both ways), then the
// size histogram.
func WriteStats(w io.Writer, s *Stats) error {
	var b strings.Builder
	type kv struct {
		k string
		v uint64
	}
	rows := []kv{
		{"count-immutable-files", uint64(s.ImmutableFiles)},
		{"count-mutable-files", uint64(s.MutableFiles)},
		{"count-literal-files", uint64(s.LiteralFiles)},
		{"count-files", uint64(s.Files)},
		{"count-directories", uint64(s.Directories)},
		{"size-immutable-files", s.SizeImmutableFiles},
		{"size-literal-files", s.SizeLiteralFiles},
		{"size-directories", s.SizeDirectories},
		{"largest-directory", s.LargestDirectory},
		{"largest-immutable-file", s.LargestImmutableFile},
	}
	width := len("largest-immutable-file")
	b.WriteString("Counts and Total Sizes:\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%*s: %d", width, r.k, r.v)
		if !strings.HasPrefix(r.k, "count-") && r.v > 1000 {
			fmt.Fprintf(&b, "    %s", abbreviateBoth(r.v))
		}
		b.WriteByte('\n')
	}
	if hist := s.Histogram(); len(hist) > 0 {
		b.WriteString("Size Histogram:\n")
		maxLen, countLen := 0, 0
		for _, h := range hist {
			maxLen = max(maxLen, len(fmt.Sprint(h.Max)))
			countLen = max(countLen, len(fmt.Sprint(h.Count)))
		}
		var prev *uint64
		for i, h := range hist {
			if prev != nil && h.Min != *prev+1 {
				fmt.Fprintf(&b, "%s...\n", strings.Repeat(" ", maxLen-1))
			}
			prev = &hist[i].Max
			fmt.Fprintf(&b, "%*d-%-*d : %-*d    %s\n", maxLen, h.Min, maxLen, h.Max, countLen, h.Count, abbreviateBoth(h.Max))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// abbreviateBoth is Tahoe's abbreviate_space_both: "(1.23 MB, 1.17 MiB)".
func abbreviateBoth(n uint64) string {
	return "(" + abbreviate(n, 1000, "B") + ", " + abbreviate(n, 1024, "iB") + ")"
}

func abbreviate(n uint64, unit float64, suffix string) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	s := float64(n)
	d := unit
	for _, p := range []string{"k", "M", "G", "T", "P"} {
		if s < d*unit {
			return fmt.Sprintf("%.2f %s%s", s/d, p, suffix)
		}
		d *= unit
	}
	return fmt.Sprintf("%.2f E%s", s/d, suffix)
}
