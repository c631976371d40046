// Package localgrid is the embedded local grid: a handful of storage
// servers kept inside a node directory (one Tahoe-layout storage directory
// each, and a servers.yaml describing them) and opened in this process, so
// a fresh machine has a grid with no setup. It joins the two sides: the
// share store of pkg/storage and the grid client of pkg/client. It does not
// choose whether a node directory uses it: pkg/lafs does.
//
// Durability: the embedded grid keeps a real node's fsync policy (see
// pkg/storage/backend/disk), since its folders are the only copy of what
// is uploaded once the cap is printed. A share is written through one open
// file for the whole upload, never synced per chunk, and published once
// when complete: fsync of the file, a no-replace rename into shares/ and an
// fsync of the bucket directory, so a crash leaves no share or the whole
// share, and an upload that reported success survives a power cut. Relaxing
// it (no fsync, or one sync of the file system at the end) would gain the
// disk's write-back time on large puts at the price of caps that can point
// at nothing after a crash; we do not make that trade silently.
//
// Several processes may open one grid at once (separate `lafs put`s):
// every server's store is shared through its directory's locks, a share
// another process is uploading is busy (the uploader waits for it rather
// than counting the server as full), and an upload left by a killed
// process is cleared by the next writer of that share.
package localgrid

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client"
	"github.com/lafs/lafs/pkg/nodedir"
	"github.com/lafs/lafs/pkg/storage/backend/mem"
	"github.com/lafs/lafs/pkg/storage/shares"
	"go.yaml.in/yaml/v3"
)

// Dir is the folder of a node directory holding the embedded local
// grid: one storage directory per server (Tahoe's layout, so a real Tahoe
// storage node could serve it) and servers.yaml describing them in Tahoe's
// static-server format.
const Dir = "local-grid"

// localDirKey is the announcement key naming a local server's folder.
const localDirKey = "lafs-local-storage-dir"

// Exists reports whether nodeDir has an embedded local grid.
func Exists(nodeDir string) bool {
	_, err := os.Stat(filepath.Join(nodeDir, Dir, "servers.yaml"))
	return err == nil
}

// Create makes an embedded grid of n servers inside nodeDir. Each
// server gets a random permutation seed and lease seed, like a real node's
// identity.
func Create(nodeDir string, n int) error {
	if n < 1 || n > caps.MaxShares {
		return fmt.Errorf("a local grid needs 1 to %d servers, not %d", caps.MaxShares, n)
	}
	root := filepath.Join(nodeDir, Dir)
	if _, err := os.Stat(filepath.Join(root, "servers.yaml")); err == nil {
		return fmt.Errorf("%s already has a local grid", nodeDir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local grid: %w", err)
	}
	type annEntry struct {
		Ann map[string]any `yaml:"ann"`
	}
	doc := map[string]map[string]annEntry{"storage": {}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%03d", i)
		if err := os.MkdirAll(filepath.Join(root, name, "shares"), 0o700); err != nil {
			return fmt.Errorf("local grid: %w", err)
		}
		seed, tub := make([]byte, 32), make([]byte, 20)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
		if _, err := rand.Read(tub); err != nil {
			return err
		}
		id := "v0-" + caps.Base32Encode(seed)
		doc["storage"][id] = annEntry{Ann: map[string]any{
			"nickname":               "local-" + strconv.Itoa(i),
			"anonymous-storage-FURL": "pb://" + caps.Base32Encode(tub) + "@local/" + name,
			localDirKey:              name,
		}}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("local grid: %w", err)
	}
	return nodedir.WriteFileAtomic(filepath.Join(root, "servers.yaml"), out, 0o600)
}

// Open opens the embedded grid of nodeDir as in-process servers. Close
// them with client.CloseServers.
func Open(nodeDir string) ([]client.Server, error) { return OpenWith(nodeDir, Options{}) }

// Options tune OpenWith.
type Options struct {
	// Memory keeps every server's shares in memory (pkg/storage/backend/mem)
	// instead of in the node directory's storage folders, with the same
	// server identities: for tests of everything above the share backend.
	// Nothing stored survives Close.
	Memory bool
}

// OpenWith opens the embedded grid of nodeDir as in-process servers over
// the backend o chooses. Close them with client.CloseServers.
func OpenWith(nodeDir string, o Options) ([]client.Server, error) {
	root := filepath.Join(nodeDir, Dir)
	data, err := os.ReadFile(filepath.Join(root, "servers.yaml"))
	if err != nil {
		return nil, fmt.Errorf("local grid: %w", err)
	}
	entries, _, err := nodedir.ParseServers(data, filepath.Join(root, "servers.yaml"))
	if err != nil {
		return nil, err
	}
	var out []client.Server
	for _, e := range entries {
		name, _ := e.Ann[localDirKey].(string)
		if name == "" || filepath.Base(name) != name {
			return nil, fmt.Errorf("local grid server %s: bad %s %q", e.ID, localDirKey, name)
		}
		var nodeID [20]byte
		copy(nodeID[:], e.LeaseSeed)
		opts := shares.Options{NodeID: nodeID, ApplicationVersion: "lafs local grid"}
		var local *shares.Store
		if o.Memory {
			local = shares.New(mem.New(mem.Options{}), opts)
		} else {
			local, err = shares.OpenDisk(filepath.Join(root, name), opts)
		}
		if err != nil {
			client.CloseServers(out)
			return nil, err
		}
		out = append(out, client.Server{
			ID: e.ID, Nickname: e.Nickname, Addr: "local",
			PermutationSeed: e.PermutationSeed, LeaseSeed: e.LeaseSeed,
			Storage: local,
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("local grid in %s has no servers", nodeDir)
	}
	return out, nil
}
