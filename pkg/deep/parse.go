package deep

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lafs/lafs/pkg/caps"
)

// ErrFormat wraps every error about deep-operation JSON that is not
// Tahoe's.
var ErrFormat = errors.New("malformed deep-operation results")

// ParseStreamNode reads one object line of Tahoe's t=stream-manifest (or
// t=stream-deep-check) answer: path, cap and type. A stats line parses
// with Type "stats".
func ParseStreamNode(b []byte) (Node, error) {
	var w struct {
		Path []string `json:"path"`
		Cap  string   `json:"cap"`
		Type string   `json:"type"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return Node{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	n := Node{Path: w.Path, Type: w.Type}
	switch w.Type {
	case "stats":
		return n, nil
	case TypeFile, TypeDirectory, TypeUnknown:
	default:
		return Node{}, fmt.Errorf("%w: object type %q", ErrFormat, w.Type)
	}
	c, err := caps.Parse(w.Cap)
	if err != nil || c.IsUnknown() {
		c = &caps.Cap{Kind: caps.KindUnknown, Raw: w.Cap}
	}
	n.Cap = c
	return n, nil
}

// ParseStats reads Tahoe's deep-stats JSON (the t=start-deep-stats status,
// or the "stats" of a stats line).
func ParseStats(b []byte) (*Stats, error) {
	var w struct {
		ImmutableFiles           int         `json:"count-immutable-files"`
		MutableFiles             int         `json:"count-mutable-files"`
		LiteralFiles             int         `json:"count-literal-files"`
		Files                    int         `json:"count-files"`
		Directories              int         `json:"count-directories"`
		Unknown                  int         `json:"count-unknown"`
		SizeImmutableFiles       uint64      `json:"size-immutable-files"`
		SizeLiteralFiles         uint64      `json:"size-literal-files"`
		SizeDirectories          uint64      `json:"size-directories"`
		LargestDirectory         uint64      `json:"largest-directory"`
		LargestDirectoryChildren int         `json:"largest-directory-children"`
		LargestImmutableFile     uint64      `json:"largest-immutable-file"`
		Histogram                [][3]uint64 `json:"size-files-histogram"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	s := &Stats{
		ImmutableFiles: w.ImmutableFiles, MutableFiles: w.MutableFiles, LiteralFiles: w.LiteralFiles,
		Files: w.Files, Directories: w.Directories, Unknown: w.Unknown,
		SizeImmutableFiles: w.SizeImmutableFiles, SizeLiteralFiles: w.SizeLiteralFiles, SizeDirectories: w.SizeDirectories,
		LargestDirectory: w.LargestDirectory, LargestDirectoryChildren: w.LargestDirectoryChildren, LargestImmutableFile: w.LargestImmutableFile,
	}
	for _, h := range w.Histogram {
		if h[0] > h[1] || h[2] > 1<<40 {
			return nil, fmt.Errorf("%w: histogram range %v", ErrFormat, h)
		}
		if s.hist == nil {
			s.hist = map[[2]uint64]int{}
		}
		s.hist[[2]uint64{h[0], h[1]}] += int(h[2])
	}
	return s, nil
}
