package tahoecmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/lafs/lafs/internal/command"
	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/health"
	"github.com/lafs/lafs/pkg/storage/shares"
	"github.com/urfave/cli/v2"
)

// catalogOptions are debug catalog-shares' arguments.
type catalogOptions struct {
	NodeDirs []string
	Now      func() time.Time
}

func newCatalogSharesCommand(stdio *command.IO) *cli.Command {
	var o catalogOptions
	return &cli.Command{
		Name:      "catalog-shares",
		Usage:     "describe all shares in node dirs",
		ArgsUsage: "NODEDIRS..",
		Description: "Prints a one-line summary of every share file under each NODEDIR's storage/shares, as\n" +
			"Tahoe-LAFS's catalog-shares does:\n\n" +
			"   CHK $SI $k/$N $filesize $UEB_hash $expiration $abspath_sharefile\n" +
			"   SDMF $SI $k/$N $filesize #$seqnum:$roothash $expiration $abspath_sharefile\n" +
			"   MDMF $SI $k/$N $filesize #$seqnum:$roothash $expiration $abspath_sharefile\n" +
			"   UNKNOWN really-unknown $abspath_sharefile\n\n" +
			"($expiration: seconds until the share's first lease expires). A share that cannot be read is\n" +
			"reported on stderr (\"Error processing ...\") and the catalog goes on.",
		Action: func(cCtx *cli.Context) error {
			if cCtx.NArg() < 1 {
				return command.Usagef("must specify at least one node directory")
			}
			o.NodeDirs = cCtx.Args().Slice()
			return runCatalogShares(stdio.Out, stdio.Err, o)
		},
	}
}

func runCatalogShares(out, errw io.Writer, o catalogOptions) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	nowSecs := float64(t.UnixNano()) / 1e9
	for _, nd := range o.NodeDirs {
		abs, err := filepath.Abs(nd)
		if err != nil {
			return err
		}
		d := filepath.Join(abs, "storage", "shares")
		abbrevs, err := readDirNames(d)
		if err != nil {
			continue // a node with no storage
		}
		sort.Strings(abbrevs)
		for _, a := range abbrevs {
			if a == "incoming" {
				continue
			}
			ad := filepath.Join(d, a)
			sis, err := readDirNames(ad)
			if err != nil {
				fmt.Fprintf(errw, "Error processing %s\n %v\n", health.QuoteOutput(ad, true), err)
				continue
			}
			sort.Strings(sis)
			for _, si := range sis {
				catalogStorageIndex(out, errw, si, filepath.Join(ad, si), nowSecs)
			}
		}
	}
	return nil
}

func readDirNames(d string) ([]string, error) {
	ents, err := os.ReadDir(d)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

// catalogStorageIndex describes the shares in one storage index's
// directory, in share-number order.
func catalogStorageIndex(out, errw io.Writer, si, dir string, now float64) {
	names, err := readDirNames(dir)
	if err != nil {
		fmt.Fprintf(errw, "Error processing %s\n %v\n", health.QuoteOutput(dir, true), err)
		return
	}
	sort.SliceStable(names, func(i, j int) bool {
		a, errA := strconv.Atoi(names[i])
		b, errB := strconv.Atoi(names[j])
		if errA != nil || errB != nil {
			return errA == nil && errB != nil
		}
		return a < b
	})
	for _, n := range names {
		p := filepath.Join(dir, n)
		line, err := describeShare(p, si, now)
		if err != nil {
			fmt.Fprintf(errw, "Error processing %s\n %v\n", health.QuoteOutput(p, true), err)
			continue
		}
		fmt.Fprintln(out, line)
	}
}

// describeShare is catalog-shares' line for one share file.
func describeShare(path, si string, now float64) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file")
	}
	f := osFile{fh, fi.Size()}
	hdr := make([]byte, 32)
	n, _ := fh.ReadAt(hdr, 0)
	quoted := health.QuoteOutput(path, true)
	switch shares.DetectContainer(hdr[:n]) {
	case shares.KindMutable:
		m, err := shares.InspectMutable(f)
		if err != nil {
			return "", err
		}
		exp, err := firstExpiration(m.Leases, now)
		if err != nil {
			return "", err
		}
		data := io.NewSectionReader(f, shares.MutableDataOffset, m.DataLength)
		var v [1]byte
		if n, _ := data.ReadAt(v[:], 0); n != 1 || v[0] > 1 {
			return "UNKNOWN mutable " + quoted, nil
		}
		l, err := readMutableLayout(data, m.DataLength)
		if err != nil {
			return "", err
		}
		kind := "SDMF"
		if l.Version == 1 {
			kind = "MDMF"
		}
		return fmt.Sprintf("%s %s %d/%d %d #%d:%s %d %s", kind, si, l.Needed, l.Total, l.DataLength,
			l.Seqnum, caps.Base32Encode(l.RootHash), exp, quoted), nil
	case shares.KindImmutable:
		info, err := shares.Inspect(f)
		if err != nil {
			return "", err
		}
		exp, err := firstExpiration(info.Leases, now)
		if err != nil {
			return "", err
		}
		_, uebData, ueb, err := readCHKShare(io.NewSectionReader(f, 0x0c, info.DataLength))
		if err != nil {
			return "", err
		}
		k, _ := ueb.Int("needed_shares")
		total, _ := ueb.Int("total_shares")
		size, _ := ueb.Int("size")
		return fmt.Sprintf("CHK %s %d/%d %d %s %d %s", si, k, total, size,
			caps.Base32Encode(caps.UEBHash(uebData)), exp, quoted), nil
	}
	return "UNKNOWN really-unknown " + quoted, nil
}

// firstExpiration is the seconds until the earliest lease expires (0 once
// it has), as Tahoe's "%d" of the difference.
func firstExpiration(leases []shares.Lease, now float64) (int64, error) {
	if len(leases) == 0 {
		return 0, fmt.Errorf("the share has no leases")
	}
	first := leases[0].Expiration
	for _, l := range leases[1:] {
		first = min(first, l.Expiration)
	}
	return int64(max(0, float64(first)-now)), nil
}
