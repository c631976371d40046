package nodedir

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"go.yaml.in/yaml/v3"
)

// Server is one storage server from private/servers.yaml, with the values
// Tahoe derives from its announcement.
type Server struct {
	ID       string // the server id, normally "v0-" + base32 of its ed25519 public key
	Nickname string
	NURLs    []string // anonymous-storage-NURLs: how we connect (GBS over TLS)
	FURL     string   // anonymous-storage-FURL: never dialled, but its tub id is the lease seed
	// PermutationSeed orders servers for a storage index: from
	// permutation-seed-base32, else the id's public key, else SHA-256 of
	// the id (Tahoe's rules).
	PermutationSeed []byte
	// LeaseSeed (the FURL's 20-byte tub id) derives lease secrets and write
	// enablers, as Tahoe does.
	LeaseSeed []byte
	// Ann is the whole announcement as written.
	Ann map[string]any
}

var (
	furlTubID = regexp.MustCompile(`^pb://([a-zA-Z0-9]+)@`)
	v0ID      = regexp.MustCompile(`^v0-[0-9a-zA-Z]{52}$`)
)

type serversFile struct {
	Storage map[string]struct {
		Ann map[string]any `yaml:"ann"`
	} `yaml:"storage"`
}

// ParseServers reads the text of a servers.yaml. Servers Tahoe would ignore
// (no anonymous-storage-FURL) are left out and named in the warnings.
func ParseServers(data []byte, name string) ([]Server, []string, error) {
	var f serversFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Server
	var warnings []string
	for id, entry := range f.Storage {
		s, err := serverFromAnn(id, entry.Ann)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: server %s ignored: %v", name, id, err))
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	sort.Strings(warnings)
	return out, warnings, nil
}

func serverFromAnn(id string, ann map[string]any) (Server, error) {
	s := Server{ID: id, Ann: ann}
	if ann == nil {
		return s, errors.New("no ann")
	}
	s.Nickname, _ = ann["nickname"].(string)
	s.FURL, _ = ann["anonymous-storage-FURL"].(string)
	if s.FURL == "" {
		return s, errors.New("no anonymous-storage-FURL (Tahoe ignores such servers)")
	}
	m := furlTubID.FindStringSubmatch(s.FURL)
	if m == nil {
		return s, fmt.Errorf("anonymous-storage-FURL %q is not a pb:// FURL", s.FURL)
	}
	tub, err := caps.Base32Decode(strings.ToLower(m[1]))
	if err != nil {
		return s, fmt.Errorf("FURL tub id: %w", err)
	}
	s.LeaseSeed = tub
	if list, ok := ann["anonymous-storage-NURLs"].([]any); ok {
		for _, v := range list {
			if u, ok := v.(string); ok {
				s.NURLs = append(s.NURLs, u)
			}
		}
	}
	switch seed, _ := ann["permutation-seed-base32"].(string); {
	case seed != "":
		if s.PermutationSeed, err = caps.Base32Decode(seed); err != nil {
			return s, fmt.Errorf("permutation-seed-base32: %w", err)
		}
	case v0ID.MatchString(id):
		if s.PermutationSeed, err = caps.Base32Decode(id[3:]); err != nil {
			return s, fmt.Errorf("server id: %w", err)
		}
	default:
		h := sha256.Sum256([]byte(id))
		s.PermutationSeed = h[:]
	}
	return s, nil
}

// Servers reads private/servers.yaml; a missing file is no servers.
func (n *Node) Servers() ([]Server, []string, error) {
	path := n.Path("private", "servers.yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading servers: %w", err)
	}
	return ParseServers(b, path)
}

// PermutedIndex returns the order of servers for a storage index: Tahoe's
// permute_server_hash, SHA-1(storage index || permutation seed), ascending;
// ties (equal seeds) fall back to the server id.
func PermutedIndex(storageIndex []byte, seeds [][]byte, ids []string) []int {
	type keyed struct {
		i   int
		key [sha1.Size]byte
	}
	ks := make([]keyed, len(seeds))
	buf := make([]byte, 0, len(storageIndex)+64)
	for i, seed := range seeds {
		buf = append(append(buf[:0], storageIndex...), seed...)
		ks[i] = keyed{i, sha1.Sum(buf)}
	}
	sort.SliceStable(ks, func(a, b int) bool {
		if c := bytes.Compare(ks[a].key[:], ks[b].key[:]); c != 0 {
			return c < 0
		}
		return ids[ks[a].i] < ids[ks[b].i]
	})
	out := make([]int, len(ks))
	for i, k := range ks {
		out[i] = k.i
	}
	return out
}
