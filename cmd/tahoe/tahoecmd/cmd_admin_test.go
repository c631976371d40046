package tahoecmd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// A key pair made by Tahoe 1.20's `tahoe admin generate-keypair`.
const (
	tahoePriv = "priv-v0-a5n45ohndhf4vanrxi56b3fp33qfgf6grmd362mmxy3wczjhfe2a"
	tahoePub  = "pub-v0-pwzlbrq4z25ppqc7rtirwi5inowi5t3irqanny5frjdx7iydwgqq"
)

func TestDerivePubkeyMatchesTahoe(t *testing.T) {
	var out bytes.Buffer
	if err := runDerivePubkey(&out, tahoePriv); err != nil {
		t.Fatal(err)
	}
	if want := "private: " + tahoePriv + "\npublic: " + tahoePub + "\n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	for _, bad := range []string{"", "priv-v0-", "priv-v0-bogus", "pub-v0-" + tahoePub[7:], "priv-v0-a5n45ohndhf4vanrxi56b3fp33qfgf6grmd362mmxy3wczjhfe", "priv-v0-!!"} {
		if err := runDerivePubkey(&out, bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestGenerateKeypairRoundTrips(t *testing.T) {
	var out bytes.Buffer
	if err := runGenerateKeypair(&out, bytes.NewReader(bytes.Repeat([]byte{7}, 64))); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "private: priv-v0-") || !strings.HasPrefix(lines[1], "public: pub-v0-") {
		t.Fatalf("generate-keypair printed %q", out.String())
	}
	var again bytes.Buffer
	if err := runDerivePubkey(&again, strings.TrimPrefix(lines[0], "private: ")); err != nil || again.String() != out.String() {
		t.Fatalf("derive-pubkey of the new key: %q, %v", again.String(), err)
	}
}

// TestWebopenURL: the page Tahoe's webopen would open (tahoe_webopen.py,
// quote() of the root cap and of each path segment).
func TestWebopenURL(t *testing.T) {
	n := newTestNode(t)
	f, out, _ := n.factory()
	f.NodeURL = "http://127.0.0.1:3456"
	aliases, err := f.Aliases()
	if err != nil {
		t.Fatal(err)
	}
	root := aliases["home"]
	quoted := strings.ReplaceAll(root, ":", "%3A")
	for _, c := range []struct {
		o    webopenOptions
		want string
	}{
		{webopenOptions{}, "http://127.0.0.1:3456/"},
		{webopenOptions{Where: "home:"}, "http://127.0.0.1:3456/uri/" + quoted},
		{webopenOptions{Where: "home:a b/caf\u00e9/", Info: true}, "http://127.0.0.1:3456/uri/" + quoted + "/a%20b/caf%C3%A9?t=info"},
	} {
		got, err := webopenURL(f, c.o)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.o, got, err, c.want)
		}
	}
	// No browser: the URL is printed instead.
	o := webopenOptions{Where: "home:", Getenv: func(string) string { return "" },
		LookPath: func(string) (string, error) { return "", errors.New("none") }}
	if err := runWebopen(context.Background(), f, o); err != nil {
		t.Fatal(err)
	}
	if out.String() != "http://127.0.0.1:3456/uri/"+quoted+"\n" {
		t.Fatalf("webopen with no browser printed %q", out.String())
	}
}
