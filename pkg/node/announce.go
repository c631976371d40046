package node

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ServerAnnouncement is a static-server entry of private/servers.yaml.
type ServerAnnouncement struct {
	Nickname        string   `yaml:"nickname"`
	PermutationSeed string   `yaml:"permutation-seed-base32"`
	FURL            string   `yaml:"anonymous-storage-FURL"`
	NURLs           []string `yaml:"anonymous-storage-NURLs"`
}

// ServersYAML renders a servers.yaml document announcing one server.
func ServersYAML(serverID string, ann ServerAnnouncement) ([]byte, error) {
	type entry struct {
		Ann ServerAnnouncement `yaml:"ann"`
	}
	doc := map[string]map[string]entry{"storage": {serverID: {Ann: ann}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render servers.yaml: %w", err)
	}
	return b, nil
}
