package nodedir

import (
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lafs/lafs/pkg/caps"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		section string
		key     string
		want    string
		wantErr string
	}{
		{"plain", "[client]\nshares.needed = 2\n", "client", "shares.needed", "2", ""},
		{"colon separator", "[node]\nnickname: alice\n", "node", "nickname", "alice", ""},
		{"keys are case-insensitive", "[node]\nNickName = bob\n", "node", "nickname", "bob", ""},
		{"comments", "# top\n[node]\n; c\nnickname = x # not a comment\n", "node", "nickname", "x # not a comment", ""},
		{"continuation", "[client]\nintroducer.furl = a\n  b\n", "client", "introducer.furl", "a\nb", ""},
		{"bom", "\ufeff[node]\nnickname = z\n", "node", "nickname", "z", ""},
		{"empty value", "[node]\nnickname =\n", "node", "nickname", "", ""},
		{"setting before section", "nickname = x\n", "", "", "", "tahoe.cfg:1: a setting before any [section] header"},
		{"duplicate key", "[node]\na = 1\nA = 2\n", "", "", "", "tahoe.cfg:3: [node] a is set twice"},
		{"duplicate section", "[node]\n[node]\n", "", "", "", "section [node] appears twice"},
		{"no separator", "[node]\njunk\n", "", "", "", "expected 'key = value'"},
		{"bad header", "[node\n", "", "", "", "malformed section header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(strings.NewReader(tt.text), "tahoe.cfg")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.Get(tt.section, tt.key)
			if !ok || got != tt.want {
				t.Fatalf("Get = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestEncodingDefaultsAndErrors(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := n.Encoding()
	if err != nil || e != (Encoding{3, 7, 10, 1 << 20}) {
		t.Fatalf("defaults %+v %v", e, err)
	}
	for text, want := range map[string]string{
		"[client]\nshares.needed = 11\n":                                    "shares.total = 10",
		"[client]\nshares.needed = x\n":                                     "not an integer",
		"[client]\nshares.happy = 0\n":                                      "shares.happy = 0",
		"[client]\nshares.total = 300\n":                                    "shares.total = 300",
		"[client]\nshares.needed = 1\nshares.total = 1\nshares.happy = 1\n": "",
	} {
		if err := os.WriteFile(filepath.Join(dir, "tahoe.cfg"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Encoding()
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

func TestSecretsCreatedOnceAsTahoe(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := n.ConvergenceSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) != 32 {
		t.Fatalf("secret has %d bytes", len(s1))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "private", "convergence"))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 53 || raw[52] != '\n' {
		t.Fatalf("private/convergence is %q, want 52 base32 chars and a newline", raw)
	}
	s2, err := n.ConvergenceSecret()
	if err != nil || string(s1) != string(s2) {
		t.Fatal("secret changed between reads")
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "convergence"), []byte("not base32!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ConvergenceSecret(); err == nil {
		t.Fatal("bad secret accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "private", "convergence"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := n.ConvergenceSecret(); err != nil || len(s) != 0 {
		t.Fatalf("empty file: %q %v", s, err)
	}
}

const serversYAML = `storage:
  v0-4uazse3xb6uu5qpkb7tel2bm6bpea4jhuigdhqcuvvse7hugtsia:
    ann:
      nickname: one
      anonymous-storage-FURL: pb://u33m4y7klhz3bypswqkozwetvabelhxt@tcp:127.0.0.1:1/swiss
      anonymous-storage-NURLs:
        - pb://abc@127.0.0.1:1/swiss#v=1
  my-server-2:
    ann:
      anonymous-storage-FURL: pb://u33m4y7klhz3bypswqkozwetvabelhxt@tcp:127.0.0.1:2/swiss
      permutation-seed-base32: aaaaaaaa
  no-furl:
    ann:
      nickname: lost
`

func TestParseServers(t *testing.T) {
	servers, warnings, err := ParseServers([]byte(serversYAML), "servers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "no-furl") {
		t.Fatalf("servers %d warnings %v", len(servers), warnings)
	}
	s := servers[1]
	if s.Nickname != "one" || len(s.NURLs) != 1 || len(s.LeaseSeed) != 20 || len(s.PermutationSeed) != 32 {
		t.Fatalf("server %+v", s)
	}
	if len(servers[0].PermutationSeed) != 5 {
		t.Fatalf("explicit permutation seed: %x", servers[0].PermutationSeed)
	}
	if _, _, err := ParseServers([]byte("storage: [\n"), "servers.yaml"); err == nil {
		t.Fatal("bad YAML accepted")
	}
}

const directYAML = `
storage:
  photos-1:
    lafs-s3:
      url: http://127.0.0.1:7070
      region: us-east-1
      bucket: photos
      prefix: node1
      access_key_id: AKIATEST
  photos-2:
    ann:
      nickname: two
      anonymous-storage-FURL: pb://ok6qcqwbyvtgpmkdyl73b5j3r4zrnkgl@tcp:127.0.0.1:1/swiss
    lafs-s3:
      url: http://127.0.0.1:7070
      bucket: photos
      prefix: node2
      access_key_id: AKIATEST
      secret_file: other-secret
  no-bucket:
    lafs-s3:
      url: http://127.0.0.1:7070
      access_key_id: AKIATEST
`

func TestParseDirectS3Servers(t *testing.T) {
	servers, warnings, err := ParseServers([]byte(directYAML), "servers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "no bucket") {
		t.Fatalf("servers %d, warnings %q", len(servers), warnings)
	}
	one, two := servers[0], servers[1]
	if one.S3 == nil || one.S3.Bucket != "photos" || one.S3.Prefix != "node1" || one.S3.Region != "us-east-1" || one.S3.AccessKeyID != "AKIATEST" {
		t.Fatalf("direct entry = %+v", one.S3)
	}
	if one.Nickname != "photos" || len(one.LeaseSeed) != 20 || len(one.PermutationSeed) != 32 || one.FURL != "" {
		t.Errorf("direct server without ann: %+v", one)
	}
	// With a FURL, the lease seed is its tub id, as for the storage node
	// that will serve the same bucket.
	if two.S3 == nil || two.Nickname != "two" || caps.Base32Encode(two.LeaseSeed) != "ok6qcqwbyvtgpmkdyl73b5j3r4zrnkgl" {
		t.Errorf("direct server with ann: %+v", two)
	}
	dir := t.TempDir()
	n := &Node{Dir: dir}
	if _, err := n.S3Secret(*one.S3); err == nil {
		t.Error("a missing secret file was accepted")
	}
	os.MkdirAll(filepath.Join(dir, "private"), 0o700)
	os.WriteFile(filepath.Join(dir, "private", "s3secret"), []byte("sekrit\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "other-secret"), []byte("  \n"), 0o600)
	if got, err := n.S3Secret(*one.S3); err != nil || got != "sekrit" {
		t.Errorf("S3Secret = %q, %v", got, err)
	}
	if _, err := n.S3Secret(*two.S3); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty secret file: %v", err)
	}
}

func TestPermutedIndex(t *testing.T) {
	si := []byte("0123456789abcdef")
	seeds := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}
	ids := []string{"a", "b", "c", "d"}
	order := PermutedIndex(si, seeds, ids)
	for i := 1; i < len(order); i++ {
		prev := sha1.Sum(append(append([]byte{}, si...), seeds[order[i-1]]...))
		cur := sha1.Sum(append(append([]byte{}, si...), seeds[order[i]]...))
		if string(prev[:]) > string(cur[:]) {
			t.Fatalf("order %v not ascending by SHA-1(si||seed)", order)
		}
	}
}

func TestWriteFileAtomicLeavesOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFileAtomic(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() != 0 { // root ignores directory permissions
		if err := WriteFileAtomic(path, []byte("two"), 0o600); err == nil {
			t.Fatal("write into read-only dir succeeded")
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "one" {
		t.Fatalf("file now %q %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("[node]\nnickname = x\n[client]\nshares.needed = 3\n  more\n")
	f.Add("; c\n[a]\nb: c\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, sec := range c.Sections() {
			for _, k := range c.Keys(sec) {
				if _, ok := c.Get(sec, k); !ok {
					t.Fatalf("listed key %s/%s not found", sec, k)
				}
			}
		}
	})
}

func FuzzParseServers(f *testing.F) {
	f.Add([]byte(serversYAML))
	f.Add([]byte(directYAML))
	f.Fuzz(func(t *testing.T, b []byte) {
		servers, _, err := ParseServers(b, "fuzz")
		if err != nil {
			return
		}
		for _, s := range servers {
			if len(s.LeaseSeed) == 0 || len(s.PermutationSeed) == 0 {
				t.Fatalf("server %q lacks seeds", s.ID)
			}
		}
	})
}

// Processes starting on a fresh node directory at once all get the one
// secret that was written first: none replaces another's.
func TestSecretsCreatedOnceUnderRace(t *testing.T) {
	for _, name := range []string{"convergence", "secret"} {
		for _, racers := range []int{2, 8, 32} {
			dir := t.TempDir()
			got := make([][]byte, racers)
			errs := make([]error, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := Open(dir)
					if err != nil {
						errs[i] = err
						return
					}
					if name == "convergence" {
						got[i], errs[i] = n.ConvergenceSecret()
					} else {
						got[i], errs[i] = n.LeaseSecret()
					}
				}()
			}
			wg.Wait()
			n, _ := Open(dir)
			final, err := n.privateSecret(name)
			if err != nil {
				t.Fatal(err)
			}
			for i := range racers {
				if errs[i] != nil {
					t.Fatalf("%s, %d racers: %v", name, racers, errs[i])
				}
				if string(got[i]) != string(final) {
					t.Fatalf("%s, %d racers: racer %d got a secret that is not the one kept", name, racers, i)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "private", ".*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		}
	}
}
