package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/lafs/lafs/pkg/caps"
)

// ErrFormat wraps every error about JSON that is not Tahoe's check
// results.
var ErrFormat = errors.New("malformed check results")

// locators is the JSON form of a share list: [server, SI, shnum] triples.
func locators(ls []ShareLocator) []any {
	out := make([]any, len(ls))
	for i, l := range ls {
		out[i] = []any{l.Server, caps.Base32Encode(l.StorageIndex), l.Share}
	}
	return out
}

// countsObject is Tahoe's json_check_counts, keys in its order.
func (r *Results) countsObject() Object {
	sharemap := make(Object, 0, len(r.Sharemap))
	for _, k := range r.SortedShareIDs() {
		ids := append([]string(nil), r.Sharemap[k]...)
		sort.Strings(ids)
		sharemap = append(sharemap, Field{k, ids})
	}
	responding := append([]string{}, r.ServersResponding...)
	return Object{
		{"count-happiness", r.Happiness},
		{"count-shares-good", r.SharesGood},
		{"count-shares-needed", r.SharesNeeded},
		{"count-shares-expected", r.SharesExpected},
		{"count-good-share-hosts", r.GoodShareHosts},
		{"count-corrupt-shares", len(r.CorruptShares)},
		{"list-corrupt-shares", locators(r.CorruptShares)},
		{"servers-responding", responding},
		{"sharemap", sharemap},
		{"count-wrong-shares", r.WrongShares},
		{"count-recoverable-versions", r.RecoverableVersions},
		{"count-unrecoverable-versions", r.UnrecoverableVersions},
	}
}

// Object is Tahoe's json_check_results of r: storage-index, summary and
// results (the counters, then healthy and recoverable). A LIT file's is
// {"storage-index": "", "results": {"healthy": true}}.
func (r *Results) Object() Object {
	if r == nil || r.IsLiteral() {
		return Object{{"storage-index", ""}, {"results", Object{{"healthy", true}}}}
	}
	res := append(r.countsObject(), Field{"healthy", r.Healthy}, Field{"recoverable", r.Recoverable})
	return Object{
		{"storage-index", r.StorageIndexString()},
		{"summary", r.Summary},
		{"results", res},
	}
}

// JSON is the body of Tahoe's t=check&output=JSON answer for r: the
// object indented by one space, and a newline.
func (r *Results) JSON() string { return PyJSON(r.Object(), 1) + "\n" }

// Object is Tahoe's json_check_and_repair_results of c. A LIT file's is
// {"storage-index": "", "repair-attempted": false}.
func (c *CheckAndRepair) Object() Object {
	if c == nil || c.IsLiteral() {
		return Object{{"storage-index", ""}, {"repair-attempted", false}}
	}
	return Object{
		{"storage-index", caps.Base32Encode(c.StorageIndex)},
		{"repair-attempted", c.RepairAttempted},
		{"repair-successful", c.RepairAttempted && c.RepairSuccessful},
		{"pre-repair-results", c.Pre.Object()},
		{"post-repair-results", c.Post.Object()},
	}
}

// JSON is the body of Tahoe's t=check&repair=true&output=JSON answer.
func (c *CheckAndRepair) JSON() string { return PyJSON(c.Object(), 1) + "\n" }

// wire mirrors the JSON of a check result for decoding.
type wire struct {
	StorageIndex *string `json:"storage-index"`
	Summary      string  `json:"summary"`
	Results      *struct {
		Happiness             int                 `json:"count-happiness"`
		SharesGood            int                 `json:"count-shares-good"`
		SharesNeeded          int                 `json:"count-shares-needed"`
		SharesExpected        int                 `json:"count-shares-expected"`
		GoodShareHosts        int                 `json:"count-good-share-hosts"`
		CorruptShares         [][]json.RawMessage `json:"list-corrupt-shares"`
		ServersResponding     []string            `json:"servers-responding"`
		Sharemap              map[string][]string `json:"sharemap"`
		WrongShares           int                 `json:"count-wrong-shares"`
		RecoverableVersions   int                 `json:"count-recoverable-versions"`
		UnrecoverableVersions int                 `json:"count-unrecoverable-versions"`
		Healthy               *bool               `json:"healthy"`
		Recoverable           *bool               `json:"recoverable"`
	} `json:"results"`
	RepairAttempted  *bool `json:"repair-attempted"`
	RepairSuccessful bool  `json:"repair-successful"`
	Pre              *wire `json:"pre-repair-results"`
	Post             *wire `json:"post-repair-results"`
}

// ParseResults reads Tahoe's JSON check results (json_check_results), as
// a gateway's t=check&output=JSON answers them.
func ParseResults(data []byte) (*Results, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return w.results()
}

// ParseCheckAndRepair reads Tahoe's JSON check-and-repair results
// (json_check_and_repair_results).
func ParseCheckAndRepair(data []byte) (*CheckAndRepair, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return w.checkAndRepair()
}

func (w *wire) checkAndRepair() (*CheckAndRepair, error) {
	if w.StorageIndex == nil || w.RepairAttempted == nil {
		return nil, fmt.Errorf("%w: no storage-index or repair-attempted", ErrFormat)
	}
	if *w.StorageIndex == "" {
		return LiteralRepair(), nil
	}
	si, err := caps.Base32DecodeLen(*w.StorageIndex, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: storage index: %v", ErrFormat, err)
	}
	if w.Pre == nil || w.Post == nil {
		return nil, fmt.Errorf("%w: no pre- or post-repair results", ErrFormat)
	}
	c := &CheckAndRepair{StorageIndex: si, RepairAttempted: *w.RepairAttempted, RepairSuccessful: w.RepairSuccessful}
	if c.Pre, err = w.Pre.results(); err != nil {
		return nil, err
	}
	if c.Post, err = w.Post.results(); err != nil {
		return nil, err
	}
	return c, nil
}

func (w *wire) results() (*Results, error) {
	if w.StorageIndex == nil || w.Results == nil || w.Results.Healthy == nil {
		return nil, fmt.Errorf("%w: no storage-index or results", ErrFormat)
	}
	if *w.StorageIndex == "" {
		return Literal(), nil
	}
	si, err := caps.Base32DecodeLen(*w.StorageIndex, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: storage index: %v", ErrFormat, err)
	}
	x := w.Results
	r := &Results{
		StorageIndex: si, Summary: w.Summary, Healthy: *x.Healthy,
		Happiness: x.Happiness, SharesNeeded: x.SharesNeeded, SharesExpected: x.SharesExpected,
		SharesGood: x.SharesGood, GoodShareHosts: x.GoodShareHosts, WrongShares: x.WrongShares,
		RecoverableVersions: x.RecoverableVersions, UnrecoverableVersions: x.UnrecoverableVersions,
		ServersResponding: x.ServersResponding, Sharemap: map[string][]string{},
	}
	if x.Recoverable != nil {
		r.Recoverable = *x.Recoverable
	}
	for k, ids := range x.Sharemap {
		if k == "" {
			return nil, fmt.Errorf("%w: empty sharemap key", ErrFormat)
		}
		r.Sharemap[k] = ids
	}
	for _, t := range x.CorruptShares {
		l, err := parseLocator(t)
		if err != nil {
			return nil, err
		}
		r.CorruptShares = append(r.CorruptShares, l)
	}
	return r, nil
}

func parseLocator(t []json.RawMessage) (ShareLocator, error) {
	var l ShareLocator
	var si string
	if len(t) != 3 {
		return l, fmt.Errorf("%w: a corrupt share is not [server, SI, shnum]", ErrFormat)
	}
	d := func(raw json.RawMessage, v any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		return dec.Decode(v)
	}
	if d(t[0], &l.Server) != nil || d(t[1], &si) != nil || d(t[2], &l.Share) != nil {
		return l, fmt.Errorf("%w: a corrupt share is not [server, SI, shnum]", ErrFormat)
	}
	b, err := caps.Base32DecodeLen(si, 16)
	if err != nil {
		return l, fmt.Errorf("%w: corrupt share's storage index: %v", ErrFormat, err)
	}
	l.StorageIndex = b
	return l, nil
}
