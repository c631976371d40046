package nodedir

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// S3, when set, says the server's shares are reached directly in an S3
	// bucket (direct-to-S3: one person's use, no storage node, no
	// accounting, no garbage collection) rather than through its NURLs.
	S3 *S3Direct
}

// S3Direct is the lafs-s3 block of a servers.yaml entry, beside its ann:
// the bucket (and key prefix) holding that server's shares, in the layout
// a storage node with [storage] backend = cloud.s3 serves.
//
//	storage:
//	  v0-...:
//	    ann: {nickname: photos-1, anonymous-storage-FURL: pb://...@.../...}   # optional
//	    lafs-s3:
//	      url: https://s3.eu-west-1.amazonaws.com
//	      region: eu-west-1
//	      bucket: photos
//	      prefix: node1            # optional
//	      access_key_id: AKIA...
//	      secret_file: private/s3secret   # optional; relative to the node directory
type S3Direct struct {
	URL         string `yaml:"url"`
	Region      string `yaml:"region"`
	Bucket      string `yaml:"bucket"`
	Prefix      string `yaml:"prefix"`
	AccessKeyID string `yaml:"access_key_id"`
	// SecretFile holds the secret access key; DefaultS3SecretFile when
	// empty. A relative path is relative to the node directory.
	SecretFile string `yaml:"secret_file"`
}

// DefaultS3SecretFile is where the S3 secret access key is kept, relative
// to a node directory (the storage node's private/s3secret too).
const DefaultS3SecretFile = "private/s3secret"

// S3Secret reads the secret access key of a direct-to-S3 entry.
func (n *Node) S3Secret(d S3Direct) (string, error) {
	f := d.SecretFile
	if f == "" {
		f = DefaultS3SecretFile
	}
	if !filepath.IsAbs(f) {
		f = filepath.Join(n.Dir, filepath.FromSlash(f))
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("S3 secret access key: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("S3 secret access key: %s is empty", f)
	}
	return secret, nil
}

var (
	furlTubID = regexp.MustCompile(`^pb://([a-zA-Z0-9]+)@`)
	v0ID      = regexp.MustCompile(`^v0-[0-9a-zA-Z]{52}$`)
)

type serversFile struct {
	Storage map[string]struct {
		Ann map[string]any `yaml:"ann"`
		S3  *S3Direct      `yaml:"lafs-s3"`
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
		var s Server
		var err error
		if entry.S3 != nil {
			s, err = directServer(id, entry.Ann, *entry.S3)
		} else {
			s, err = serverFromAnn(id, entry.Ann)
		}
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

// directServer makes a direct-to-S3 server: the ann is optional (when it
// names a FURL, its tub id is the lease seed as usual, so the shares'
// write enablers match those of the storage node that will serve the
// bucket; otherwise a seed is derived from the id).
func directServer(id string, ann map[string]any, d S3Direct) (Server, error) {
	switch {
	case d.URL == "":
		return Server{}, errors.New("lafs-s3: no url")
	case d.Bucket == "":
		return Server{}, errors.New("lafs-s3: no bucket")
	case d.AccessKeyID == "":
		return Server{}, errors.New("lafs-s3: no access_key_id")
	}
	if ann == nil {
		ann = map[string]any{}
	}
	if furl, _ := ann["anonymous-storage-FURL"].(string); furl != "" {
		s, err := serverFromAnn(id, ann)
		if err != nil {
			return s, err
		}
		s.S3 = &d
		return s, nil
	}
	s := Server{ID: id, Ann: ann, S3: &d}
	s.Nickname, _ = ann["nickname"].(string)
	if s.Nickname == "" {
		s.Nickname = d.Bucket
	}
	seed := sha256.Sum256([]byte("lafs-s3-direct-lease-seed:" + id))
	s.LeaseSeed = seed[:20]
	if v0ID.MatchString(id) {
		ps, err := caps.Base32Decode(id[3:])
		if err != nil {
			return s, fmt.Errorf("server id: %w", err)
		}
		s.PermutationSeed = ps
	} else {
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
