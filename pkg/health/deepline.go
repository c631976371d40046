package health

import (
	"encoding/json"
	"fmt"
)

// ParseDeepLine reads one line of Tahoe's t=stream-deep-check answer: an
// object's path, type, storage index and check (or check-and-repair)
// results. The closing stats line parses with Type "stats" and nothing
// else.
func ParseDeepLine(b []byte) (DeepLine, error) {
	var w struct {
		Path         []string        `json:"path"`
		Type         string          `json:"type"`
		StorageIndex string          `json:"storage-index"`
		Check        json.RawMessage `json:"check-results"`
		Repair       json.RawMessage `json:"check-and-repair-results"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return DeepLine{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	l := DeepLine{Path: w.Path, Type: w.Type, StorageIndex: w.StorageIndex}
	if w.Type == "stats" {
		return l, nil
	}
	var err error
	switch {
	case w.Repair != nil:
		l.Repair, err = ParseCheckAndRepair(w.Repair)
	case w.Check != nil:
		l.Check, err = ParseResults(w.Check)
	default:
		err = fmt.Errorf("%w: a deep-check line without results", ErrFormat)
	}
	return l, err
}
