package tahoecmd

import (
	"errors"
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
		Description: "Prints what Tahoe-LAFS's `tahoe debug dump-share` prints for an immutable share file of a\n" +
			"storage node (NODEDIR/storage/shares/<prefix>/<storage index>/<shnum>). Mutable shares are not\n" +
			"yet dumped by lafs.",
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
	fmt.Fprintf(w, "share filename: '%s'\n", name)
	if info.Kind != shares.KindImmutable {
		return errors.New("not implemented by lafs: dump-share of a mutable share")
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
	hdr := make([]byte, min(data.Size(), 0x44))
	if _, err := data.ReadAt(hdr, 0); err != nil && err != io.EOF {
		return err
	}
	h, err := chk.ParseHeader(hdr)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%20s: %d\n", "version", h.Version)
	fs := int64(h.FieldSize())
	lenb := make([]byte, fs)
	if _, err := data.ReadAt(lenb, int64(h.URIExtension)); err != nil {
		return fmt.Errorf("reading the URI extension's length: %w", err)
	}
	var n int64
	for _, c := range lenb {
		n = n<<8 | int64(c)
	}
	if n < 0 || n > 64<<10 || int64(h.URIExtension)+fs+n > data.Size() {
		return fmt.Errorf("URI extension of %d bytes does not fit the share", n)
	}
	uebData := make([]byte, n)
	if _, err := data.ReadAt(uebData, int64(h.URIExtension)+fs); err != nil {
		return err
	}
	ueb, err := chk.ParseUEB(uebData)
	if err != nil {
		return err
	}
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
