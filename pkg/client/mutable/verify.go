package mutable

import "errors"

// VerifyBlocks checks every block of the share (with its salt, for MDMF)
// against the share's block hash tree. Together with Verify it checks
// everything in the share: a checker's full verification.
func (s *Share) VerifyBlocks() error {
	if s.HeadersOnly {
		return errors.New("a share read by ReadHeaders has no blocks to verify")
	}
	for i := 0; i < s.NumSegments(); i++ {
		if _, _, err := s.checkBlock(i); err != nil {
			return err
		}
	}
	return nil
}

// VersionID is the share's full version identity, Tahoe's verinfo: the
// whole signed prefix (sequence number, root hash, salt or IV, encoding,
// sizes). Shares with equal VersionIDs belong to one version.
func (s *Share) VersionID() string { return string(s.Signed) }
