package health

import (
	"sort"
	"strconv"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
)

// ShareLocator names one share of one storage index on one server.
type ShareLocator struct {
	// Server is the server's id as Tahoe's web API names it (its
	// "longname": the v0-... key for real nodes).
	Server       string
	StorageIndex []byte
	Share        int
}

// Results is the outcome of checking one file or directory (Tahoe's
// ICheckResults). A LIT file, which has nothing on the grid, is
// represented by Literal(): no storage index, healthy.
type Results struct {
	// StorageIndex is nil for a literal (LIT) file.
	StorageIndex []byte
	// Summary is Tahoe's one-line verdict ("Healthy", "Not Healthy: 6
	// shares (enc 3-of-10)", ...).
	Summary     string
	Healthy     bool
	Recoverable bool
	// Happiness is the servers-of-happiness of the good shares.
	Happiness      int
	SharesNeeded   int // k
	SharesExpected int // N
	// SharesGood counts distinct good share numbers.
	SharesGood int
	// GoodShareHosts counts servers holding at least one good share.
	GoodShareHosts int
	// WrongShares counts shares of another version (mutable files only).
	WrongShares           int
	RecoverableVersions   int
	UnrecoverableVersions int
	// ServersResponding are the ids of the servers that answered.
	ServersResponding []string
	// Sharemap maps each good share to the ids of the servers holding it.
	// Shares are named as Tahoe names them: the share number for an
	// immutable file ("3"), version and number for a mutable one
	// ("seq4-abcd-sh3").
	Sharemap           map[string][]string
	CorruptShares      []ShareLocator
	IncompatibleShares []ShareLocator
}

// Literal returns the results of checking a LIT file: healthy, nothing to
// look at.
func Literal() *Results {
	return &Results{Summary: "", Healthy: true, Recoverable: true}
}

// IsLiteral reports whether r are a LIT file's results (no storage index).
func (r *Results) IsLiteral() bool { return r.StorageIndex == nil }

// StorageIndexString is the storage index in Tahoe's base32 ("" for LIT).
func (r *Results) StorageIndexString() string {
	if r.StorageIndex == nil {
		return ""
	}
	return caps.Base32Encode(r.StorageIndex)
}

// Normalize sorts what Tahoe leaves in set order, so results compare and
// print the same every time: each share's servers, the responding servers
// (by id) and the corrupt and incompatible shares (by server, share).
func (r *Results) Normalize() {
	for sh := range r.Sharemap {
		sort.Strings(r.Sharemap[sh])
	}
	sort.Strings(r.ServersResponding)
	for _, l := range [][]ShareLocator{r.CorruptShares, r.IncompatibleShares} {
		sort.Slice(l, func(a, b int) bool {
			if l[a].Server != l[b].Server {
				return l[a].Server < l[b].Server
			}
			return l[a].Share < l[b].Share
		})
	}
}

// CheckAndRepair is the outcome of checking an object and repairing it if
// it was not healthy (Tahoe's ICheckAndRepairResults).
type CheckAndRepair struct {
	StorageIndex     []byte // nil for a LIT file
	RepairAttempted  bool
	RepairSuccessful bool
	// Pre and Post are the results before and after the repair (the same
	// when no repair was attempted).
	Pre, Post *Results
	// RepairError says why a repair failed ("" when it did not).
	RepairError string
}

// LiteralRepair returns the check-and-repair results of a LIT file.
func LiteralRepair() *CheckAndRepair {
	return &CheckAndRepair{Pre: Literal(), Post: Literal()}
}

// IsLiteral reports whether these are a LIT file's results.
func (c *CheckAndRepair) IsLiteral() bool { return c.StorageIndex == nil }

// CheckOptions tune a check.
type CheckOptions struct {
	// Verify reads every share in full and checks every hash; without it
	// the servers' word on which shares they hold is believed.
	Verify bool
	// AddLease renews (or adds) the client's lease on every share of the
	// object on every server, as Tahoe's --add-lease does.
	AddLease bool
}

// NumberedSharemap converts share number → servers to a Sharemap.
func NumberedSharemap(m map[int][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for sh, ids := range m {
		out[strconv.Itoa(sh)] = append([]string(nil), ids...)
	}
	return out
}

// Shares returns the sharemap's numbered shares (an immutable file's):
// share number → servers. Other keys are left out.
func (r *Results) Shares() map[int][]string {
	out := map[int][]string{}
	for k, ids := range r.Sharemap {
		if sh, err := strconv.Atoi(k); err == nil && strconv.Itoa(sh) == k {
			out[sh] = ids
		}
	}
	return out
}

// SortedShareIDs returns the sharemap's keys in a stable order: share
// numbers by value, then version-named shares by version and number.
func (r *Results) SortedShareIDs() []string {
	keys := make([]string, 0, len(r.Sharemap))
	for k := range r.Sharemap {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return shareIDLess(keys[a], keys[b]) })
	return keys
}

// shareIDLess orders "3" < "10" < "seq1-aaaa-sh2" < "seq1-aaaa-sh10".
func shareIDLess(a, b string) bool {
	pa, na := splitShareID(a)
	pb, nb := splitShareID(b)
	if (pa == "") != (pb == "") {
		return pa == ""
	}
	if pa != pb {
		return pa < pb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func splitShareID(id string) (prefix string, num int) {
	if n, err := strconv.Atoi(id); err == nil {
		return "", n
	}
	if i := strings.LastIndex(id, "-sh"); i >= 0 {
		if n, err := strconv.Atoi(id[i+3:]); err == nil {
			return id[:i], n
		}
	}
	return id, -1
}
