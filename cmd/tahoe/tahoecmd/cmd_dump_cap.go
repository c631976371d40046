package tahoecmd

import (
	"encoding/base32"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/urfave/cli/v2"
)

type dumpCapOptions struct {
	JSON         bool
	NodeID       string // server node id, RFC 3548 base32 of 20 bytes
	ClientSecret string // the client's base secret, Tahoe base32
	ClientDir    string // a client node directory holding private/secret
}

func newDumpCapCommand(stdio *command.IO) *cli.Command {
	var opts dumpCapOptions
	return &cli.Command{
		Name:      "dump-cap",
		Usage:     "describe a capability: its kind, keys, storage index and derived caps",
		ArgsUsage: "CAP|-",
		Description: "Prints what the cap string holds. CAP may be a web-API URL (.../uri/URI%3A...).\n" +
			"With --json prints {kind, readcap, verifycap, storage_index, mutable, readonly, size},\n" +
			"null where a value is not defined for the cap. Exit status: 0 success, 1 invalid cap or usage error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON object", Destination: &opts.JSON},
			&cli.StringFlag{Name: "nodeid", Aliases: []string{"n"}, Usage: "storage server node id, to show its write enabler and lease secrets", Destination: &opts.NodeID},
			&cli.StringFlag{Name: "client-secret", Aliases: []string{"c"}, Usage: "the client's base secret, to show lease secrets", Destination: &opts.ClientSecret},
			&cli.StringFlag{Name: "client-dir", Aliases: []string{"d"}, Usage: "client node directory to read private/secret from", Destination: &opts.ClientDir},
		},
		Action: func(cCtx *cli.Context) error {
			s, err := command.ArgOrStdin(cCtx, stdio, "cap")
			if err != nil {
				return err
			}
			return runDumpCap(stdio, opts, s)
		},
	}
}

// capJSON is the scriptable shape of `tahoe debug dump-cap --json`.
type capJSON struct {
	Kind         string  `json:"kind"`
	Readcap      *string `json:"readcap"`
	Verifycap    *string `json:"verifycap"`
	StorageIndex *string `json:"storage_index"`
	Mutable      *bool   `json:"mutable"`
	Readonly     *bool   `json:"readonly"`
	Size         *uint64 `json:"size"`
}

func describeCap(c *caps.Cap) capJSON {
	out := capJSON{Kind: string(c.Kind)}
	if c.IsUnknown() {
		return out
	}
	if r := c.ReadOnly(); r != nil {
		s := r.String()
		out.Readcap = &s
	}
	if v := c.Verifier(); v != nil {
		s := v.String()
		out.Verifycap = &s
	}
	if c.StorageIndex != nil {
		s := caps.Base32Encode(c.StorageIndex)
		out.StorageIndex = &s
	}
	m, ro := c.IsMutable(), c.IsReadOnly()
	out.Mutable, out.Readonly = &m, &ro
	if n, ok := c.SizeKnown(); ok {
		out.Size = &n
	}
	return out
}

// capFromURL accepts a web-API URL for a cap, as Tahoe's dump-cap does.
func capFromURL(s string) (string, error) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a valid URL: %w", err)
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/uri/") {
		return "", fmt.Errorf("URL %q does not name a cap (its path must start with /uri/)", s)
	}
	capStr, err := url.PathUnescape(strings.SplitN(p[len("/uri/"):], "/", 2)[0])
	if err != nil {
		return "", fmt.Errorf("URL %q: %w", s, err)
	}
	return capStr, nil
}

func runDumpCap(stdio *command.IO, opts dumpCapOptions, arg string) error {
	s, err := capFromURL(arg)
	if err != nil {
		return err
	}
	c, err := caps.Parse(s)
	if err != nil {
		return err
	}
	if opts.JSON {
		return command.WriteJSON(stdio.Out, describeCap(c))
	}
	var nodeID, secret []byte
	if opts.NodeID != "" {
		nodeID, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(opts.NodeID))
		if err != nil || len(nodeID) != 20 {
			return command.Usagef("--nodeid %q: want the base32 of a 20-byte node id", opts.NodeID)
		}
	}
	switch {
	case opts.ClientSecret != "":
		if secret, err = caps.Base32Decode(opts.ClientSecret); err != nil {
			return command.Usagef("--client-secret: %v", err)
		}
	case opts.ClientDir != "":
		b, err := os.ReadFile(filepath.Join(opts.ClientDir, "private", "secret"))
		if err == nil {
			secret, _ = caps.Base32Decode(strings.TrimSpace(string(b)))
		}
	}
	w := stdio.Out
	fmt.Fprintln(w)
	dumpCapText(w, c, nodeID, secret, true)
	return nil
}

func b32(b []byte) string { return caps.Base32Encode(b) }

// dumpCapText prints the description in Tahoe's layout.
func dumpCapText(w io.Writer, c *caps.Cap, nodeID, secret []byte, header bool) {
	title := map[caps.Kind]string{
		caps.KindCHK: "CHK File:", caps.KindCHKVerifier: "CHK Verifier URI:", caps.KindLIT: "Literal File URI:",
		caps.KindSSK: "SDMF Writeable URI:", caps.KindSSKRO: "SDMF Read-only URI:", caps.KindSSKVerifier: "SDMF Verifier URI:",
		caps.KindMDMF: "MDMF Writeable URI:", caps.KindMDMFRO: "MDMF Read-only URI:", caps.KindMDMFVerifier: "MDMF Verifier URI:",
		caps.KindDIR2CHK: "CHK Directory URI:", caps.KindDIR2CHKVerifier: "CHK Directory Verifier URI:",
		caps.KindDIR2: "Directory Writeable URI:", caps.KindDIR2RO: "Directory Read-only URI:", caps.KindDIR2Verifier: "Directory Verifier URI:",
		caps.KindDIR2MDMF: "Directory Writeable URI:", caps.KindDIR2MDMFRO: "Directory Read-only URI:", caps.KindDIR2MDMFVerifier: "Directory Verifier URI:",
		caps.KindDIR2LIT: "Literal Directory URI:",
	}
	t, ok := title[c.Kind]
	if !ok {
		fmt.Fprintln(w, "unknown cap type")
		return
	}
	if header {
		fmt.Fprintln(w, t)
	}
	si := ""
	if c.StorageIndex != nil {
		si = b32(c.StorageIndex)
	}
	switch c.Kind {
	case caps.KindCHK, caps.KindDIR2CHK:
		fmt.Fprintln(w, " key:", b32(c.Key))
		fmt.Fprintln(w, " UEB hash:", b32(c.UEBHash))
		fmt.Fprintln(w, " size:", c.Size)
		fmt.Fprintf(w, " k/N: %d/%d\n", c.Needed, c.Total)
		fmt.Fprintln(w, " storage index:", si)
		dumpSecrets(w, c.StorageIndex, secret, nodeID)
	case caps.KindCHKVerifier, caps.KindDIR2CHKVerifier:
		fmt.Fprintln(w, " UEB hash:", b32(c.UEBHash))
		fmt.Fprintln(w, " size:", c.Size)
		fmt.Fprintf(w, " k/N: %d/%d\n", c.Needed, c.Total)
		fmt.Fprintln(w, " storage index:", si)
	case caps.KindLIT, caps.KindDIR2LIT:
		fmt.Fprintln(w, " data:", quoteData(c.Data))
	case caps.KindSSK, caps.KindMDMF, caps.KindDIR2, caps.KindDIR2MDMF:
		fmt.Fprintln(w, " writekey:", b32(c.WriteKey))
		fmt.Fprintln(w, " readkey:", b32(c.ReadKey))
		fmt.Fprintln(w, " storage index:", si)
		fmt.Fprintln(w, " fingerprint:", b32(c.Fingerprint))
		fmt.Fprintln(w)
		if nodeID != nil {
			fmt.Fprintln(w, " write_enabler:", b32(caps.WriteEnabler(c.WriteKey, nodeID)))
			fmt.Fprintln(w)
		}
		dumpSecrets(w, c.StorageIndex, secret, nodeID)
	case caps.KindSSKRO, caps.KindMDMFRO, caps.KindDIR2RO, caps.KindDIR2MDMFRO:
		fmt.Fprintln(w, " readkey:", b32(c.ReadKey))
		fmt.Fprintln(w, " storage index:", si)
		fmt.Fprintln(w, " fingerprint:", b32(c.Fingerprint))
	default: // the mutable verifiers
		fmt.Fprintln(w, " storage index:", si)
		fmt.Fprintln(w, " fingerprint:", b32(c.Fingerprint))
	}
}

func dumpSecrets(w io.Writer, si, secret, nodeID []byte) {
	if secret == nil {
		return
	}
	crs := caps.ClientRenewalSecret(secret)
	fmt.Fprintln(w, " client renewal secret:", b32(crs))
	frs := caps.FileRenewalSecret(crs, si)
	fmt.Fprintln(w, " file renewal secret:", b32(frs))
	if nodeID != nil {
		fmt.Fprintln(w, " lease renewal secret:", b32(caps.BucketRenewalSecret(frs, nodeID)))
	}
	ccs := caps.ClientCancelSecret(secret)
	fmt.Fprintln(w, " client cancel secret:", b32(ccs))
	fcs := caps.FileCancelSecret(ccs, si)
	fmt.Fprintln(w, " file cancel secret:", b32(fcs))
	if nodeID != nil {
		fmt.Fprintln(w, " lease cancel secret:", b32(caps.BucketCancelSecret(fcs, nodeID)))
	}
}

// quoteData quotes literal file contents for display: printable UTF-8 in
// single quotes, anything else as a Go-escaped byte string.
func quoteData(b []byte) string {
	s := string(b)
	if strconv.CanBackquote(s) && !strings.ContainsRune(s, '\'') {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}
