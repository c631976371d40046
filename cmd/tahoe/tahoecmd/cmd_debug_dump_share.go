package tahoecmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/storage/shares"
	"github.com/urfave/cli/v2"
)

// dumpShareOptions are debug dump-share's argument and switches.
type dumpShareOptions struct {
	Filename   string
	Offsets    bool
	LeasesOnly bool
	Now        func() time.Time
}

func newDumpShareCommand(stdio *command.IO) *cli.Command {
	var o dumpShareOptions
	return &cli.Command{
		Name:      "dump-share",
		Usage:     "unpack and display the contents of a share (uri_extension and leases)",
		ArgsUsage: "SHARE_FILENAME",
		Description: "Prints what Tahoe-LAFS's `tahoe debug dump-share` prints for a share file of a storage node\n" +
			"(NODEDIR/storage/shares/<prefix>/<storage index>/<shnum>): an immutable (CHK) share's URI extension,\n" +
			"sizes and leases, or a mutable (SDMF or MDMF) share's container header, leases and contents; and the\n" +
			"verify-cap of the file it belongs to.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "offsets", Usage: "display a table of section offsets", Destination: &o.Offsets},
			&cli.BoolFlag{Name: "leases-only", Usage: "dump leases but not CHK contents", Destination: &o.LeasesOnly},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 1 {
				return command.Usagef("Wrong number of arguments.")
			}
			o.Filename = cCtx.Args().First()
			return runDumpShare(stdio.Out, o)
		},
	}
}

// osFile is an *os.File as a shares.File.
type osFile struct {
	*os.File
	size int64
}

func (f osFile) Size() int64 { return f.size }

func runDumpShare(w io.Writer, o dumpShareOptions) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	name, err := filepath.Abs(o.Filename)
	if err != nil {
		return err
	}
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	f := osFile{fh, fi.Size()}
	info, err := shares.Inspect(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(w, "share filename: %s\n", health.QuoteOutput(name, true))
	if info.Kind == shares.KindMutable {
		return dumpMutableShare(w, f, name, o, now())
	}
	// An immutable container: a 12-byte header, then the share data.
	const dataOffset = 0x0c
	data := io.NewSectionReader(f, dataOffset, info.DataLength)
	if !o.LeasesOnly {
		if err := dumpCHKShare(w, data, name, o.Offsets, dataOffset, dataOffset+info.DataLength); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(info.Leases) == 0 {
		fmt.Fprintln(w, " No leases.")
	}
	for i, l := range info.Leases {
		fmt.Fprintf(w, " Lease #%d: owner=%d, expire in %s\n", i, l.Owner, formatExpiration(int64(l.Expiration), now()))
	}
	_, err = fmt.Fprintln(w)
	return err
}

// formatExpiration is Tahoe's "1234s (30 days)".
func formatExpiration(expiration int64, now time.Time) string {
	remains := float64(expiration) - float64(now.UnixNano())/1e9
	when := fmt.Sprintf("%ds", int64(remains))
	switch {
	case remains > 24*3600:
		when += fmt.Sprintf(" (%d days)", int64(remains/(24*3600)))
	case remains > 3600:
		when += fmt.Sprintf(" (%d hours)", int64(remains/3600))
	}
	return when
}

// dumpCHKShare prints the URI extension block of a CHK share and the
// sizes of its regions, as Tahoe's dump_immutable_chk_share.
func dumpCHKShare(w io.Writer, data *io.SectionReader, name string, offsets bool, dataOffset, leaseOffset int64) error {
	h, uebData, ueb, err := readCHKShare(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%20s: %d\n", "version", h.Version)
	uebHash := caps.Base32Encode(caps.TaggedHash("allmydata_uri_extension_v1", uebData, 0))
	show := func(key string) string {
		v := ueb.Fields[key]
		if strings.Contains(key, "hash") {
			return caps.Base32Encode(v)
		}
		return string(v)
	}
	keys1 := []string{"size", "num_segments", "segment_size", "needed_shares", "total_shares"}
	keys2 := []string{"codec_name", "codec_params", "tail_codec_params"}
	keys3 := []string{"plaintext_hash", "plaintext_root_hash", "crypttext_hash", "crypttext_root_hash", "share_root_hash"}
	known := map[string]bool{}
	for i, keys := range [][]string{keys1, keys2, keys3} {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, k := range keys {
			known[k] = true
			if _, ok := ueb.Fields[k]; ok {
				dk := k
				if k == "size" {
					dk = "file_size"
				}
				fmt.Fprintf(w, "%20s: %s\n", dk, show(k))
			}
		}
	}
	fmt.Fprintf(w, "%20s: %s\n", "UEB_hash", uebHash)
	var leftover []string
	for k := range ueb.Fields {
		if !known[k] {
			leftover = append(leftover, k)
		}
	}
	if len(leftover) > 0 {
		sort.Strings(leftover)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "LEFTOVER:")
		for _, k := range leftover {
			fmt.Fprintf(w, "%20s: %s\n", k, show(k))
		}
	}
	// The storage index is the name of the share's directory.
	if si, err := caps.Base32DecodeLen(filepath.Base(filepath.Dir(name)), 16); err == nil {
		needed, _ := ueb.Int("needed_shares")
		total, _ := ueb.Int("total_shares")
		size, _ := ueb.Int("size")
		v := fmt.Sprintf("URI:CHK-Verifier:%s:%s:%d:%d:%d", caps.Base32Encode(si), uebHash, needed, total, size)
		fmt.Fprintf(w, "%20s: %s\n", "verify-cap", v)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, " Size of data within the share:")
	fmt.Fprintf(w, "%20s: %d\n", "data", h.PlaintextHashTree-h.Data)
	fmt.Fprintf(w, "%20s: %d\n", "uri-extension", len(uebData))
	fmt.Fprintf(w, "%20s: %d\n", "validation", h.URIExtension-h.PlaintextHashTree)
	if offsets {
		fmt.Fprintln(w)
		fmt.Fprintln(w, " Section Offsets:")
		fmt.Fprintf(w, "%20s: %d\n", "share data", dataOffset)
		for _, s := range []struct {
			name string
			off  uint64
		}{{"block data", h.Data}, {"plaintext_hash_tree", h.PlaintextHashTree}, {"crypttext_hash_tree", h.CrypttextHashTree},
			{"block_hashes", h.BlockHashes}, {"share_hashes", h.ShareHashes}, {"uri_extension", h.URIExtension}} {
			off := uint64(dataOffset) + s.off
			fmt.Fprintf(w, "  %20s: %d   (0x%x)\n", s.name, off, off)
		}
		fmt.Fprintf(w, "%20s: %d\n", "leases", leaseOffset)
	}
	return nil
}

// dumpMutableShare prints a mutable container's header, leases and the
// SDMF or MDMF share inside it, as Tahoe's dump_mutable_share.
func dumpMutableShare(w io.Writer, f osFile, name string, o dumpShareOptions, now time.Time) error {
	m, err := shares.InspectMutable(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data := io.NewSectionReader(f, shares.MutableDataOffset, m.DataLength)
	shareType := "unknown"
	var version [1]byte
	if n, _ := data.ReadAt(version[:], 0); n == 1 {
		switch version[0] {
		case 0:
			shareType = "SDMF"
		case 1:
			shareType = "MDMF"
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Mutable slot found:")
	fmt.Fprintf(w, " share_type: %s\n", shareType)
	fmt.Fprintf(w, " write_enabler: %s\n", caps.Base32Encode(m.WriteEnabler[:]))
	fmt.Fprintf(w, " WE for nodeid: %s\n", caps.Base32Encode(m.NodeID[:]))
	fmt.Fprintf(w, " num_extra_leases: %d\n", m.NumExtraLeases)
	fmt.Fprintf(w, " container_size: %d\n", m.ExtraLeaseOffset-shares.MutableDataOffset)
	fmt.Fprintf(w, " data_length: %d\n", m.DataLength)
	if len(m.Leases) == 0 {
		fmt.Fprintln(w, "No leases.")
	}
	for i, l := range m.Leases {
		fmt.Fprintln(w)
		fmt.Fprintf(w, " Lease #%d:\n", m.Slots[i])
		fmt.Fprintf(w, "  ownerid: %d\n", l.Owner)
		fmt.Fprintf(w, "  expires in %s\n", formatExpiration(int64(l.Expiration), now))
		fmt.Fprintf(w, "  renew_secret: %s\n", presentSecret(l.RenewSecret, l.Cleartext))
		fmt.Fprintf(w, "  cancel_secret: %s\n", presentSecret(l.CancelSecret, l.Cleartext))
		fmt.Fprintf(w, "  secrets are for nodeid: %s\n", caps.Base32Encode(l.NodeID[:]))
	}
	fmt.Fprintln(w)
	if shareType == "unknown" {
		return nil
	}
	c, err := readMutableContents(data, m.DataLength)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(w, " %s contents:\n", shareType)
	fmt.Fprintf(w, "  seqnum: %d\n", c.Seqnum)
	fmt.Fprintf(w, "  root_hash: %s\n", caps.Base32Encode(c.RootHash))
	if c.Version == 0 {
		fmt.Fprintf(w, "  IV: %s\n", caps.Base32Encode(c.IV))
	}
	fmt.Fprintf(w, "  required_shares: %d\n", c.Needed)
	fmt.Fprintf(w, "  total_shares: %d\n", c.Total)
	fmt.Fprintf(w, "  segsize: %d\n", c.SegmentSize)
	fmt.Fprintf(w, "  datalen: %d\n", c.DataLength)
	fmt.Fprintf(w, "  enc_privkey: %d bytes\n", c.EncPrivKeyLen)
	fmt.Fprintf(w, "  pubkey: %d bytes\n", len(c.PubKey))
	fmt.Fprintf(w, "  signature: %d bytes\n", c.SignatureLen)
	fmt.Fprintf(w, "  share_hash_chain: %s\n", c.shareHashList())
	fmt.Fprintf(w, "  block_hash_tree: %d nodes\n", c.BlockHashNodes)
	if si, err := caps.Base32DecodeLen(filepath.Base(filepath.Dir(name)), 16); err == nil {
		fmt.Fprintf(w, "  verify-cap: %s\n", c.verifyCap(si))
	}
	if o.Offsets {
		// SDMF's table is indented under a flush-left heading, MDMF's
		// names cut at 20 characters (Tahoe's "%20s" and "%.20s").
		pr := func(name string, v int64, shift int) {
			if c.Version == 0 {
				fmt.Fprintf(w, "%s%20s: %d   (0x%x)\n", strings.Repeat(" ", shift), name, v, v)
			} else {
				fmt.Fprintf(w, "%s%.20s: %d   (0x%x)\n", strings.Repeat(" ", shift), name, v, v)
			}
		}
		base, shift := 0, 2
		if c.Version == 1 {
			base, shift = 2, 4
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, " Section Offsets:")
		pr("first lease", shares.MutableHeaderSize, base)
		pr("share data", shares.MutableDataOffset, base)
		pr("seqnum", shares.MutableDataOffset+1, shift)
		pr("root_hash", shares.MutableDataOffset+9, shift)
		keys := []string{"signature", "share_hash_chain", "block_hash_tree", "share_data", "enc_privkey", "EOF"}
		if c.Version == 1 {
			keys = []string{"enc_privkey", "share_hash_chain", "signature", "verification_key",
				"verification_key_end", "share_data", "block_hash_tree", "EOF"}
		}
		names := map[string]string{"share_data": "block data", "verification_key": "pubkey",
			"verification_key_end": "end of pubkey", "EOF": "end of share data"}
		for _, k := range keys {
			n := k
			if v, ok := names[k]; ok {
				n = v
			}
			pr(n, shares.MutableDataOffset+int64(c.Offsets[k]), shift)
		}
		pr("extra leases", m.ExtraLeaseOffset+4, base)
	}
	_, err = fmt.Fprintln(w)
	return err
}

// presentSecret shows a lease secret as Tahoe does: hashed ones (version-2
// containers) as "hash:" and the hash's base32.
func presentSecret(s [32]byte, cleartext bool) string {
	if cleartext {
		return caps.Base32Encode(s[:])
	}
	return "hash:" + caps.Base32Encode(s[:])
}

// readCHKShare reads an immutable share's header and its URI extension
// block (raw and parsed) from the share data.
func readCHKShare(data *io.SectionReader) (chk.Header, []byte, chk.UEB, error) {
	hdr := make([]byte, min(data.Size(), 0x44))
	if _, err := data.ReadAt(hdr, 0); err != nil && err != io.EOF {
		return chk.Header{}, nil, chk.UEB{}, err
	}
	h, err := chk.ParseHeader(hdr)
	if err != nil {
		return chk.Header{}, nil, chk.UEB{}, err
	}
	fs := int64(h.FieldSize())
	lenb := make([]byte, fs)
	if _, err := data.ReadAt(lenb, int64(h.URIExtension)); err != nil {
		return chk.Header{}, nil, chk.UEB{}, fmt.Errorf("reading the URI extension's length: %w", err)
	}
	var n int64
	for _, c := range lenb {
		n = n<<8 | int64(c)
	}
	if n < 0 || n > 64<<10 || int64(h.URIExtension)+fs+n > data.Size() {
		return chk.Header{}, nil, chk.UEB{}, fmt.Errorf("URI extension of %d bytes does not fit the share", n)
	}
	uebData := make([]byte, n)
	if _, err := data.ReadAt(uebData, int64(h.URIExtension)+fs); err != nil {
		return chk.Header{}, nil, chk.UEB{}, err
	}
	ueb, err := chk.ParseUEB(uebData)
	if err != nil {
		return chk.Header{}, nil, chk.UEB{}, err
	}
	return h, uebData, ueb, nil
}
