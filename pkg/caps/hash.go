package caps

import (
	"crypto/sha256"
	"hash"
	"strconv"
)

// Hash tags of Tahoe-LAFS's tagged hashes. Every derived value in Tahoe is
// SHA-256d over netstring(tag) followed by the input; the tags below are part
// of the on-grid format and must never change.
const (
	TagStorageIndex       = "allmydata_immutable_key_to_storage_index_v1"
	TagBlock              = "allmydata_encoded_subshare_v1"
	TagUEB                = "allmydata_uri_extension_v1"
	TagPlaintext          = "allmydata_plaintext_v1"
	TagCrypttext          = "allmydata_crypttext_v1"
	TagCrypttextSegment   = "allmydata_crypttext_segment_v1"
	TagPlaintextSegment   = "allmydata_plaintext_segment_v1"
	TagConvergence        = "allmydata_immutable_content_to_key_with_added_secret_v1+"
	TagClientRenewal      = "allmydata_client_renewal_secret_v1"
	TagClientCancel       = "allmydata_client_cancel_secret_v1"
	TagFileRenewal        = "allmydata_file_renewal_secret_v1"
	TagFileCancel         = "allmydata_file_cancel_secret_v1"
	TagBucketRenewal      = "allmydata_bucket_renewal_secret_v1"
	TagBucketCancel       = "allmydata_bucket_cancel_secret_v1"
	TagMutableWriteKey    = "allmydata_mutable_privkey_to_writekey_v1"
	TagWriteEnablerMaster = "allmydata_mutable_writekey_to_write_enabler_master_v1"
	TagWriteEnabler       = "allmydata_mutable_write_enabler_master_and_nodeid_to_write_enabler_v1"
	TagPubkeyFingerprint  = "allmydata_mutable_pubkey_to_fingerprint_v1"
	TagMutableReadKey     = "allmydata_mutable_writekey_to_readkey_v1"
	TagMutableDataKey     = "allmydata_mutable_readkey_to_datakey_v1"
	TagMutableSI          = "allmydata_mutable_readkey_to_storage_index_v1"
	TagDirChildCapKey     = "allmydata_mutable_writekey_and_salt_to_dirnode_child_capkey_v1"
	TagDirChildSalt       = "allmydata_dirnode_child_rwcap_to_salt_v1"
)

// KeyLen is the length of AES keys, mutable read/write keys and storage
// indexes.
const KeyLen = 16

// Netstring returns b framed as a netstring: "<len>:<bytes>,".
func Netstring(b []byte) []byte {
	out := make([]byte, 0, len(b)+12)
	out = strconv.AppendInt(out, int64(len(b)), 10)
	out = append(out, ':')
	out = append(out, b...)
	return append(out, ',')
}

// SHA256d is SHA-256 applied twice (Ferguson and Schneier's SHA-256d), as a
// streaming hash.Hash. Sum returns the second digest, truncated when the
// hasher was made with a truncation length.
type SHA256d struct {
	h        hash.Hash
	truncate int
}

// NewTaggedHasher returns a SHA256d hasher primed with netstring(tag). When
// truncate > 0 the digest is cut to that many bytes.
func NewTaggedHasher(tag string, truncate int) *SHA256d {
	d := &SHA256d{h: sha256.New(), truncate: truncate}
	d.h.Write(Netstring([]byte(tag)))
	return d
}

// Write adds p to the hash; it never fails.
func (d *SHA256d) Write(p []byte) (int, error) { return d.h.Write(p) }

// Digest returns the SHA-256d digest of everything written so far.
func (d *SHA256d) Digest() []byte {
	first := d.h.Sum(nil)
	second := sha256.Sum256(first)
	if d.truncate > 0 && d.truncate < len(second) {
		return second[:d.truncate]
	}
	return second[:]
}

// TaggedHash is SHA-256d(netstring(tag) || val), cut to truncate bytes when
// truncate > 0.
func TaggedHash(tag string, val []byte, truncate int) []byte {
	h := NewTaggedHasher(tag, truncate)
	h.Write(val)
	return h.Digest()
}

// TaggedHashBytes is TaggedHash with a binary tag (Tahoe uses secrets as tags
// for the client lease secrets).
func TaggedHashBytes(tag, val []byte) []byte {
	h := sha256.New()
	h.Write(Netstring(tag))
	h.Write(val)
	first := h.Sum(nil)
	second := sha256.Sum256(first)
	return second[:]
}

// TaggedPairHash is SHA-256d(netstring(tag) || netstring(a) || netstring(b)),
// cut to truncate bytes when truncate > 0.
func TaggedPairHash(tag string, a, b []byte, truncate int) []byte {
	h := NewTaggedHasher(tag, truncate)
	h.Write(Netstring(a))
	h.Write(Netstring(b))
	return h.Digest()
}

// StorageIndexCHK derives an immutable file's 16-byte storage index from its
// AES key.
func StorageIndexCHK(key []byte) []byte { return TaggedHash(TagStorageIndex, key, 16) }

// UEBHash is the hash of a URI extension block carried in a CHK cap.
func UEBHash(ueb []byte) []byte { return TaggedHash(TagUEB, ueb, 0) }

// MutableWriteKey derives an SSK/MDMF writekey from the serialized RSA private
// key.
func MutableWriteKey(privkey []byte) []byte { return TaggedHash(TagMutableWriteKey, privkey, KeyLen) }

// MutableReadKey derives a mutable readkey from its writekey.
func MutableReadKey(writekey []byte) []byte { return TaggedHash(TagMutableReadKey, writekey, KeyLen) }

// MutableStorageIndex derives a mutable file's storage index from its readkey.
func MutableStorageIndex(readkey []byte) []byte { return TaggedHash(TagMutableSI, readkey, KeyLen) }

// PubkeyFingerprint is the hash of a serialized RSA public key that mutable
// caps carry.
func PubkeyFingerprint(pubkey []byte) []byte { return TaggedHash(TagPubkeyFingerprint, pubkey, 0) }

// WriteEnablerMaster derives the write-enabler master secret from a writekey.
func WriteEnablerMaster(writekey []byte) []byte {
	return TaggedHash(TagWriteEnablerMaster, writekey, 0)
}

// WriteEnabler derives the per-server write enabler from a writekey and the
// server's 20-byte lease seed (Foolscap tub id).
func WriteEnabler(writekey, serverID []byte) []byte {
	return TaggedPairHash(TagWriteEnabler, WriteEnablerMaster(writekey), serverID, 0)
}

// MutableDataKey derives the AES key of one mutable-file version from its
// salt (IV) and the readkey.
func MutableDataKey(iv, readkey []byte) []byte {
	return TaggedPairHash(TagMutableDataKey, iv, readkey, KeyLen)
}

// DirChildCapKey derives the key that encrypts a directory child's writecap.
func DirChildCapKey(iv, writekey []byte) []byte {
	return TaggedPairHash(TagDirChildCapKey, iv, writekey, KeyLen)
}

// DirChildSalt derives the salt of a directory child's encrypted writecap
// from the writecap itself.
func DirChildSalt(rwcap []byte) []byte { return TaggedHash(TagDirChildSalt, rwcap, KeyLen) }

// ClientRenewalSecret derives a client's lease renewal secret from its
// secret (private/secret).
func ClientRenewalSecret(secret []byte) []byte {
	return TaggedHashBytes(secret, []byte(TagClientRenewal))
}

// ClientCancelSecret derives a client's lease cancel secret.
func ClientCancelSecret(secret []byte) []byte {
	return TaggedHashBytes(secret, []byte(TagClientCancel))
}

// FileRenewalSecret derives the per-file renewal secret.
func FileRenewalSecret(clientRenewal, storageIndex []byte) []byte {
	return TaggedPairHash(TagFileRenewal, clientRenewal, storageIndex, 0)
}

// FileCancelSecret derives the per-file cancel secret.
func FileCancelSecret(clientCancel, storageIndex []byte) []byte {
	return TaggedPairHash(TagFileCancel, clientCancel, storageIndex, 0)
}

// BucketRenewalSecret derives the per-server renewal secret from the file's
// and the server's 20-byte lease seed.
func BucketRenewalSecret(fileRenewal, serverID []byte) []byte {
	return TaggedPairHash(TagBucketRenewal, fileRenewal, serverID, 0)
}

// BucketCancelSecret derives the per-server cancel secret.
func BucketCancelSecret(fileCancel, serverID []byte) []byte {
	return TaggedPairHash(TagBucketCancel, fileCancel, serverID, 0)
}
