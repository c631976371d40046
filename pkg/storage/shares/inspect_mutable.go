package shares

import "fmt"

// Offsets of a mutable container's regions, as Tahoe's dump-share names
// them ("first lease", "share data").
const (
	// MutableHeaderSize is where the first lease slot begins.
	MutableHeaderSize = mutableHeaderSize
	// MutableDataOffset is where the share data begins.
	MutableDataOffset = mutableDataOffset
)

// MutableContainer is what a mutable container's header and lease slots
// hold: what `tahoe debug dump-share` and `catalog-shares` show.
type MutableContainer struct {
	// NodeID is the server that recorded the write enabler.
	NodeID [20]byte
	// WriteEnabler is the stored write enabler.
	WriteEnabler [32]byte
	// DataLength is the length of the share data.
	DataLength int64
	// ExtraLeaseOffset is where the extra-lease count sits (the data's
	// end as the container is sized).
	ExtraLeaseOffset int64
	// NumExtraLeases counts the lease slots after the data.
	NumExtraLeases uint32
	// Leases are the occupied lease slots and Slots their slot numbers.
	Leases []Lease
	Slots  []int
}

// InspectMutable reads the header and leases of a mutable container;
// ErrUnknownContainer (wrapped) when f is not one or its header points
// outside the file.
func InspectMutable(f File) (MutableContainer, error) {
	c, err := parseMutable(f)
	if err != nil {
		return MutableContainer{}, err
	}
	var m MutableContainer
	if m.WriteEnabler, m.NodeID, err = c.WriteEnabler(); err != nil {
		return MutableContainer{}, err
	}
	if m.DataLength, err = c.DataLength(); err != nil {
		return MutableContainer{}, err
	}
	if m.ExtraLeaseOffset, m.NumExtraLeases, err = c.numExtraLeases(); err != nil {
		return MutableContainer{}, err
	}
	if m.Leases, m.Slots, err = c.Leases(); err != nil {
		return MutableContainer{}, fmt.Errorf("mutable container leases: %w", err)
	}
	return m, nil
}
