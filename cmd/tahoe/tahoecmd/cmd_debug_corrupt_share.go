package tahoecmd

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/client/chk"
	"github.com/lafs/lafs/pkg/storage/shares"
	"github.com/urfave/cli/v2"
)

// corruptOptions are debug corrupt-share's argument and --offset.
type corruptOptions struct {
	Filename string
	Offset   string
	// Rand picks the byte and bit; a fresh random source when nil.
	Rand *rand.Rand
}

func newCorruptShareCommand(stdio *command.IO) *cli.Command {
	var o corruptOptions
	return &cli.Command{
		Name:      "corrupt-share",
		Usage:     "corrupt a share by flipping a bit",
		ArgsUsage: "SHARE_FILENAME",
		Description: "Flips one random bit of the block data of the share file SHARE_FILENAME (an immutable\n" +
			"share, or an SDMF or MDMF mutable share) and prints \"[start..end):  offset.bBIT\": the block data's\n" +
			"byte range in the file and the bit flipped. A verifying or downloading client then finds the\n" +
			"share corrupt and uses another. Not for normal operation.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "offset", Aliases: []string{"o"}, Value: "block-random",
				Usage: "specify which bit to flip (only block-random, as in Tahoe-LAFS)", Destination: &o.Offset},
		},
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() != 1 {
				return command.Usagef("Wrong number of arguments.")
			}
			o.Filename = cCtx.Args().First()
			return runCorruptShare(stdio.Out, o)
		},
	}
}

func runCorruptShare(w io.Writer, o corruptOptions) error {
	if o.Offset != "block-random" {
		return fmt.Errorf("--offset %q: only block-random is implemented (as in Tahoe-LAFS)", o.Offset)
	}
	fh, err := os.OpenFile(o.Filename, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	f := osFile{fh, fi.Size()}
	start, end, err := blockDataRange(f)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Filename, err)
	}
	if end <= start {
		return fmt.Errorf("%s: the share has no block data to corrupt", o.Filename)
	}
	r := o.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	off := start + r.Int64N(end-start)
	bit := r.IntN(8)
	if _, err := fmt.Fprintf(w, "[%d..%d):  %d.b%d\n", start, end, off, bit); err != nil {
		return err
	}
	var b [1]byte
	if _, err := fh.ReadAt(b[:], off); err != nil {
		return fmt.Errorf("reading byte %d: %w", off, err)
	}
	b[0] ^= 1 << bit
	if _, err := fh.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("writing byte %d: %w", off, err)
	}
	return fh.Close()
}

// blockDataRange is where a share file's block data lies: an immutable
// share's data region, an SDMF share's share_data (up to its private
// key), an MDMF share's salts and blocks (up to its block hash tree).
func blockDataRange(f osFile) (start, end int64, err error) {
	hdr := make([]byte, 32)
	n, _ := f.ReadAt(hdr, 0)
	switch shares.DetectContainer(hdr[:n]) {
	case shares.KindMutable:
		m, err := shares.InspectMutable(f)
		if err != nil {
			return 0, 0, err
		}
		l, err := readMutableLayout(io.NewSectionReader(f, shares.MutableDataOffset, m.DataLength), m.DataLength)
		if err != nil {
			return 0, 0, err
		}
		to := "enc_privkey"
		if l.Version == 1 {
			to = "block_hash_tree"
		}
		if _, err := l.span("share data", "share_data", to, m.DataLength); err != nil {
			return 0, 0, err
		}
		a, b := l.region("share_data", to)
		return shares.MutableDataOffset + int64(a), shares.MutableDataOffset + int64(b), nil
	case shares.KindImmutable:
		info, err := shares.Inspect(f)
		if err != nil {
			return 0, 0, err
		}
		const dataOffset = 0x0c
		b := make([]byte, min(info.DataLength, 0x44))
		if _, err := f.ReadAt(b, dataOffset); err != nil && err != io.EOF {
			return 0, 0, err
		}
		h, err := chk.ParseHeader(b)
		if err != nil {
			return 0, 0, err
		}
		if h.PlaintextHashTree < h.Data || int64(h.PlaintextHashTree) > info.DataLength {
			return 0, 0, fmt.Errorf("block data [%d, %d) is outside the %d-byte share", h.Data, h.PlaintextHashTree, info.DataLength)
		}
		return dataOffset + int64(h.Data), dataOffset + int64(h.PlaintextHashTree), nil
	}
	return 0, 0, errors.New("not a share file (neither an immutable nor a mutable container)")
}
