package happiness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Request is the JSON input of `tahoe debug placement`:
//
//	{"servers":[ids in permuted order],"readonly":[ids],"shares":[ints],
//	 "existing":{"id":[ints]}}
//
// Servers are the candidates; a read-only server may be listed there or only
// in Readonly; a server named only in Existing is not a candidate.
type Request struct {
	Servers  []string         `json:"servers"`
	Readonly []string         `json:"readonly"`
	Shares   []int            `json:"shares"`
	Existing map[string][]int `json:"existing"`
}

// Response is the JSON output: share number (decimal string) → server id,
// and the happiness of that placement. encoding/json writes the placement's
// keys sorted as strings ("10" before "2").
type Response struct {
	Placement map[string]string `json:"placement"`
	Happiness int               `json:"happiness"`
}

// maxRequestSize bounds what DecodeRequest reads.
const maxRequestSize = 64 << 20

// DecodeRequest reads one Request from r. It rejects malformed JSON, unknown
// fields, anything after the object, duplicate server ids in servers or in
// readonly, and share numbers that are negative, above 255 or repeated
// (in shares or in one server's existing list).
func DecodeRequest(r io.Reader) (*Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRequestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading request: %w", err)
	}
	if len(data) > maxRequestSize {
		return nil, fmt.Errorf("request is larger than %d bytes", maxRequestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("malformed request: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed request: unexpected data after the JSON object")
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// Validate checks the request's ids and share numbers.
func (r *Request) Validate() error {
	for name, ids := range map[string][]string{"servers": r.Servers, "readonly": r.Readonly} {
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" {
				return fmt.Errorf("%s: empty server id", name)
			}
			if seen[id] {
				return fmt.Errorf("%s: server %q is listed twice", name, id)
			}
			seen[id] = true
		}
	}
	if err := checkShares("shares", r.Shares); err != nil {
		return err
	}
	for id, shares := range r.Existing {
		if id == "" {
			return errors.New("existing: empty server id")
		}
		if err := checkShares(fmt.Sprintf("existing[%q]", id), shares); err != nil {
			return err
		}
	}
	return nil
}

func checkShares(where string, shares []int) error {
	seen := map[int]bool{}
	for _, sh := range shares {
		if sh < 0 || sh > MaxShare {
			return fmt.Errorf("%s: share %d is out of range (0 to %d)", where, sh, MaxShare)
		}
		if seen[sh] {
			return fmt.Errorf("%s: share %d is listed twice", where, sh)
		}
		seen[sh] = true
	}
	return nil
}

// Input converts the request to Plan's indexed form, with the candidate
// server ids in index order.
func (r *Request) Input() (Input, []string) {
	var ids []string
	index := map[string]int{}
	add := func(id string) {
		if _, ok := index[id]; ok {
			return
		}
		index[id] = len(ids)
		ids = append(ids, id)
	}
	if len(r.Servers) == 0 {
		return Input{}, nil
	}
	for _, id := range r.Servers {
		add(id)
	}
	for _, id := range r.Readonly {
		add(id)
	}
	in := Input{NumServers: len(ids), ReadOnly: make([]bool, len(ids)), Existing: make([][]int, len(ids)), Shares: r.Shares}
	for _, id := range r.Readonly {
		in.ReadOnly[index[id]] = true
	}
	for id, shares := range r.Existing {
		if i, ok := index[id]; ok {
			in.Existing[i] = shares
		}
	}
	return in, ids
}

// Plan runs Plan on the request and returns the response.
func (r *Request) Plan() Response {
	in, ids := r.Input()
	p := Plan(in)
	resp := Response{Placement: make(map[string]string, len(p)), Happiness: p.Happiness()}
	for sh, i := range p {
		resp.Placement[strconv.Itoa(sh)] = ids[i]
	}
	return resp
}

// SortedShares returns the placement's share numbers in ascending order.
func (p Placement) SortedShares() []int {
	out := make([]int, 0, len(p))
	for sh := range p {
		out = append(out, sh)
	}
	sort.Ints(out)
	return out
}
