package tahoecmd

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/urfave/cli/v2"
)

// Tahoe's ed25519 key strings (allmydata.crypto.ed25519): a prefix, then
// the raw key bytes (the 32-byte seed of a private key, the 32-byte
// public key) in Tahoe's lower-case base32 without padding.
const (
	privateKeyPrefix = "priv-v0-"
	publicKeyPrefix  = "pub-v0-"
)

// adminKeyCommands are admin's key subcommands (Tahoe's admin.py), and
// its others that lafs does not implement.
func adminKeyCommands(f *command.Factory) []*cli.Command {
	return []*cli.Command{
		{
			Name:  "generate-keypair",
			Usage: "generate a public/private keypair, dumped to stdout as two lines of ASCII",
			Action: func(cCtx *cli.Context) error {
				if cCtx.NArg() != 0 {
					return command.Usagef("Wrong number of arguments.")
				}
				return runGenerateKeypair(f.IO.Out, rand.Reader)
			},
		},
		{
			Name:      "derive-pubkey",
			Usage:     "derive the public key of a private (signing) key made by generate-keypair",
			ArgsUsage: "PRIVKEY",
			Action: func(cCtx *cli.Context) error {
				if cCtx.NArg() != 1 {
					return command.Usagef("Wrong number of arguments.")
				}
				return runDerivePubkey(f.IO.Out, cCtx.Args().First())
			},
		},
		command.NotImplemented("migrate-crawler"),
		command.NotImplemented("add-grid-manager-cert"),
	}
}

// runGenerateKeypair prints a new ed25519 key pair as Tahoe's admin
// generate-keypair does.
func runGenerateKeypair(w io.Writer, random io.Reader) error {
	_, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return fmt.Errorf("generating a key pair: %w", err)
	}
	return printKeypair(w, priv)
}

// runDerivePubkey prints the key pair of a private key string.
func runDerivePubkey(w io.Writer, s string) error {
	priv, err := parsePrivateKey(s)
	if err != nil {
		return err
	}
	return printKeypair(w, priv)
}

// parsePrivateKey reads "priv-v0-<base32 of the 32-byte seed>".
func parsePrivateKey(s string) (ed25519.PrivateKey, error) {
	enc, ok := strings.CutPrefix(s, privateKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("private key must start with %q", privateKeyPrefix)
	}
	seed, err := caps.Base32Decode(enc)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("an Ed25519 private key is %d bytes long, not %d", ed25519.SeedSize, len(seed))
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func printKeypair(w io.Writer, priv ed25519.PrivateKey) error {
	pub := priv.Public().(ed25519.PublicKey)
	_, err := fmt.Fprintf(w, "private: %s%s\npublic: %s%s\n",
		privateKeyPrefix, caps.Base32Encode(priv.Seed()), publicKeyPrefix, caps.Base32Encode(pub))
	return err
}
