package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The expected values below were computed with openssl from the files in
// testdata (an RSA certificate and PKCS#1 key in one PEM, as Foolscap
// writes node.pem) and from an ed25519 key made by openssl, not with this
// package.
const (
	vectorNodePrivkey = "priv-v0-fgxcgjp5manhbdczgzffpytyjp2lyltjyu4shx4legl5xi7j5pea"
	vectorServerID    = "v0-h6ip2ezbgaj3d2fefz6yms7nqw3zekptfzqzztrhzocxegimdniq"
	vectorSPKIHash    = "g3-DP0ftNC4EFMqoQupvspRDI-qC3h598_MM7lt81Uo"
	vectorTubID       = "mbkil7ygqmgnq2v3mdqtqgcok7qimfmd"
)

// TestLoadTahoeIdentity reads identity files in Tahoe's formats.
func TestLoadTahoeIdentity(t *testing.T) {
	dir := t.TempDir()
	pemBytes, err := os.ReadFile("testdata/tahoe-style-node.pem")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	for name, content := range map[string]string{
		"private/node.pem":     string(pemBytes),
		"private/node.privkey": vectorNodePrivkey + "\n",
		"private/storage.furl": "pb://" + vectorTubID + "@tcp:example.org:3457/kqxdsfcsrjk2dupzfq7ylvzgtl7ndcdv\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	id, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"server id", id.ServerID(), vectorServerID},
		{"SPKI hash", id.SPKIHash(), vectorSPKIHash},
		{"tub id", id.TubID(), vectorTubID},
		{"swissnum", id.Swissnum, "kqxdsfcsrjk2dupzfq7ylvzgtl7ndcdv"},
		{"permutation seed", id.PermutationSeed, strings.TrimPrefix(vectorServerID, "v0-")},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "node.pubkey"))
	if string(pub) != "pub-v0-"+strings.TrimPrefix(vectorServerID, "v0-")+"\n" {
		t.Errorf("node.pubkey = %q", pub)
	}
	if nid := id.NodeID(); len(nid) != 20 || TubID(id.Certificate.Leaf.Raw) != vectorTubID {
		t.Errorf("node id %x", nid)
	}
}
