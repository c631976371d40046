package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lafs/lafs/pkg/client/dirnode"
)

// Node types as t=json names them.
const (
	TypeFile    = "filenode"
	TypeDir     = "dirnode"
	TypeUnknown = "unknown"
)

// ErrJSON wraps every error about a t=json or welcome-page body that is
// not what the web API documents.
var ErrJSON = errors.New("malformed web API JSON")

// Node is a file, directory or unknown object as `GET ...?t=json`
// describes it. Fields the node left out are zero (or nil).
type Node struct {
	// Type is TypeFile, TypeDir or TypeUnknown (anything else is kept as
	// sent).
	Type string
	// RWURI is the write cap ("" when the object was reached through a
	// read cap or has none); ROURI the read cap; VerifyURI the verify cap.
	RWURI, ROURI, VerifyURI string
	// Mutable is nil when the node did not say.
	Mutable *bool
	// Format is "CHK", "SDMF", "MDMF", "LIT" ... or "" when not given.
	Format string
	// Size is nil when not given (directories, unknown caps).
	Size *uint64
	// Metadata is the link's metadata when the object was reached by a
	// path from a directory, or for a directory's children: the node's
	// JSON with insignificant whitespace removed (keys, their order and
	// number spellings verbatim). nil when absent.
	Metadata json.RawMessage
	// Children are a directory's children, in the order the node sent
	// them (a child's own Children are never filled).
	Children []Child
}

// Child is one named child of a directory.
type Child struct {
	Name string
	Node Node
}

// Cap is the strongest cap the node gave: the write cap, else the read cap.
func (n *Node) Cap() string {
	if n.RWURI != "" {
		return n.RWURI
	}
	return n.ROURI
}

// Entries returns a directory's children as the direct implementation
// returns them from ReadDir: names in NFC, write and read caps, metadata.
func (n *Node) Entries() []dirnode.Entry {
	out := make([]dirnode.Entry, len(n.Children))
	for i, c := range n.Children {
		out[i] = dirnode.Entry{Name: dirnode.Normalize(c.Name), RWCap: c.Node.RWURI, ROCap: c.Node.ROURI, Metadata: c.Node.Metadata}
	}
	return out
}

// ParseNode reads the body of a `GET /uri/$CAP[/PATH]?t=json`: a JSON
// list whose first element is the type and whose second is an object of
// properties, a directory's "children" among them. Children are kept in
// document order; two children of one name are an error.
func ParseNode(data []byte) (*Node, error) {
	n, err := parseNode(data, true)
	if err != nil {
		return nil, fmt.Errorf("t=json: %w", err)
	}
	return n, nil
}

func parseNode(data []byte, withChildren bool) (*Node, error) {
	if withChildren && !json.Valid(data) { // once, for the whole document
		var probe any
		err := json.Unmarshal(data, &probe)
		return nil, fmt.Errorf("not a [type, properties] list: %v: %w", err, ErrJSON)
	}
	pair, err := arrayElements(data, 2)
	if err != nil {
		return nil, err
	}
	if len(pair) < 2 {
		return nil, fmt.Errorf("a list of %d elements, want [type, properties]: %w", len(pair), ErrJSON)
	}
	n := &Node{}
	if err := json.Unmarshal(pair[0], &n.Type); err != nil {
		return nil, fmt.Errorf("the type is not a string: %w", ErrJSON)
	}
	fields, err := objectFields(pair[1])
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	for _, f := range fields {
		if bytes.Equal(f.value, []byte("null")) {
			continue
		}
		switch f.key {
		case "rw_uri":
			err = json.Unmarshal(f.value, &n.RWURI)
		case "ro_uri":
			err = json.Unmarshal(f.value, &n.ROURI)
		case "verify_uri":
			err = json.Unmarshal(f.value, &n.VerifyURI)
		case "format":
			err = json.Unmarshal(f.value, &n.Format)
		case "mutable":
			var b bool
			if err = json.Unmarshal(f.value, &b); err == nil {
				n.Mutable = &b
			}
		case "size":
			var size uint64
			if size, err = strconv.ParseUint(string(f.value), 10, 64); err == nil {
				n.Size = &size
			}
		case "metadata":
			if f.value[0] != '{' {
				err = errors.New("not an object")
				break
			}
			if !utf8.Valid(f.value) {
				// json.Compact would keep the bytes, and a directory we
				// later write would carry them.
				err = errors.New("not valid UTF-8")
				break
			}
			var buf bytes.Buffer
			if err = json.Compact(&buf, f.value); err == nil {
				n.Metadata = buf.Bytes()
			}
		case "children":
			if withChildren {
				n.Children, err = parseChildren(f.value)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %v: %w", f.key, err, ErrJSON)
		}
	}
	return n, nil
}

func parseChildren(data []byte) ([]Child, error) {
	fields, err := objectFields(data)
	if err != nil {
		return nil, err
	}
	out := make([]Child, 0, len(fields))
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		name := dirnode.Normalize(f.key)
		if seen[name] {
			return nil, fmt.Errorf("two children named %q", name)
		}
		seen[name] = true
		n, err := parseNode(f.value, false)
		if err != nil {
			return nil, fmt.Errorf("child %q: %w", name, err)
		}
		out = append(out, Child{Name: name, Node: *n})
	}
	return out, nil
}

type field struct {
	key   string
	value json.RawMessage
}

// The scanners below split a document json.Valid has accepted; they find
// where values start and end in one pass and leave the decoding of each
// small value to encoding/json.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// arrayElements returns the first max elements of a valid JSON array.
func arrayElements(data []byte, max int) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, fmt.Errorf("not a [type, properties] list: %w", ErrJSON)
	}
	var out []json.RawMessage
	for i = skipSpace(data, i+1); i < len(data) && data[i] != ']' && len(out) < max; {
		end := valueEnd(data, i)
		out = append(out, data[i:end])
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// objectFields splits a valid JSON object into its members in document
// order.
func objectFields(data []byte) ([]field, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, fmt.Errorf("not an object: %w", ErrJSON)
	}
	var out []field
	for i = skipSpace(data, i+1); i < len(data) && data[i] != '}'; {
		kend := stringEnd(data, i)
		key, err := decodeKey(data[i:kend])
		if err != nil {
			return nil, err
		}
		i = skipSpace(data, kend)
		if i >= len(data) || data[i] != ':' {
			return nil, fmt.Errorf("object member without a value: %w", ErrJSON)
		}
		i = skipSpace(data, i+1)
		end := valueEnd(data, i)
		out = append(out, field{key: key, value: data[i:end]})
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// decodeKey decodes an object key: plain ASCII directly, anything else
// through encoding/json (escapes, and invalid UTF-8 made U+FFFD as
// json.Unmarshal makes it everywhere else).
func decodeKey(tok []byte) (string, error) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", fmt.Errorf("object key is not a string: %w", ErrJSON)
	}
	plain := true
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(tok[1 : len(tok)-1]), nil
	}
	var key string
	if err := json.Unmarshal(tok, &key); err != nil {
		return "", fmt.Errorf("object key: %v: %w", err, ErrJSON)
	}
	return key, nil
}

// Welcome is the JSON welcome page (`GET /?t=json`): how the node sees
// its introducers and storage servers.
type Welcome struct {
	// IntroducerStatuses are the introducers' connection summaries.
	IntroducerStatuses []string
	Servers            []WelcomeServer
}

// WelcomeServer is one storage server on the welcome page.
type WelcomeServer struct {
	NodeID   string
	Nickname string
	// ConnectionStatus is the node's one-line summary ("connected",
	// "Connected to tcp:... via tcp", "Trying to connect", ...).
	ConnectionStatus string
	// AvailableSpace is nil when the server has not said.
	AvailableSpace *uint64
	// Version is the server's application version ("" when unknown).
	Version string
	// LastReceivedData is seconds since the epoch; nil when never.
	LastReceivedData *float64
}

// Connected reports whether the node is connected to the server.
func (s WelcomeServer) Connected() bool {
	st := s.ConnectionStatus
	return len(st) >= len("connected") && equalFoldASCII(st[:len("connected")], "connected")
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// ParseWelcome reads the JSON welcome page.
func ParseWelcome(data []byte) (*Welcome, error) {
	var raw struct {
		Introducers *struct {
			Statuses []string `json:"statuses"`
		} `json:"introducers"`
		Servers []struct {
			NodeID           *string      `json:"nodeid"`
			Nickname         *string      `json:"nickname"`
			ConnectionStatus *string      `json:"connection_status"`
			AvailableSpace   *json.Number `json:"available_space"`
			Version          *string      `json:"version"`
			LastReceivedData *float64     `json:"last_received_data"`
		} `json:"servers"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("welcome page: %v: %w", err, ErrJSON)
	}
	if raw.Servers == nil {
		return nil, fmt.Errorf("welcome page: no \"servers\" list: %w", ErrJSON)
	}
	w := &Welcome{Servers: make([]WelcomeServer, len(raw.Servers))}
	if raw.Introducers != nil {
		w.IntroducerStatuses = raw.Introducers.Statuses
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for i, s := range raw.Servers {
		ws := WelcomeServer{NodeID: str(s.NodeID), Nickname: str(s.Nickname), ConnectionStatus: str(s.ConnectionStatus),
			Version: str(s.Version), LastReceivedData: s.LastReceivedData}
		if s.AvailableSpace != nil {
			v, err := strconv.ParseUint(string(*s.AvailableSpace), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("welcome page: server %q: available_space %s: %w", ws.NodeID, *s.AvailableSpace, ErrJSON)
			}
			ws.AvailableSpace = &v
		}
		w.Servers[i] = ws
	}
	return w, nil
}

// childJSON is one value of the children dictionary that
// t=mkdir-with-children and t=mkdir-immutable take.
type childJSON struct {
	RWURI    string          `json:"rw_uri,omitempty"`
	ROURI    string          `json:"ro_uri,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// EncodeChildren writes entries as the children dictionary of
// t=mkdir-with-children (and t=mkdir-immutable): {name: [type,
// {"rw_uri", "ro_uri", "metadata"}]}, names in NFC, in the order given.
// The type is taken from the cap ("dirnode", "filenode" or "unknown");
// the node ignores it. Empty or duplicate names, and metadata that is not
// a JSON object, are errors.
func EncodeChildren(entries []dirnode.Entry) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		name := dirnode.Normalize(e.Name)
		if err := dirnode.CheckName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("two children named %q", name)
		}
		seen[name] = true
		if e.RWCap == "" && e.ROCap == "" {
			return nil, fmt.Errorf("child %q has no cap", name)
		}
		if len(e.Metadata) > 0 {
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(e.Metadata, &probe); err != nil {
				return nil, fmt.Errorf("child %q: metadata is not a JSON object: %w", name, err)
			}
		}
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal([]any{childType(e.Cap()), childJSON{RWURI: e.RWCap, ROURI: e.ROCap, Metadata: e.Metadata}})
		if err != nil {
			return nil, fmt.Errorf("child %q: %w", name, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
