package caps

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// MutableKeys are the values Tahoe derives from a mutable file's RSA key.
type MutableKeys struct {
	WriteKey, ReadKey, StorageIndex, Fingerprint, WriteEnablerMaster []byte
}

// DeriveMutableKeys computes Tahoe's mutable-file key hierarchy from an RSA
// private key: the writekey hashes the private key's PKCS#8 DER, the
// fingerprint the public key's SubjectPublicKeyInfo DER.
func DeriveMutableKeys(key *rsa.PrivateKey) (MutableKeys, error) {
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return MutableKeys{}, fmt.Errorf("encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return MutableKeys{}, fmt.Errorf("encoding the public key: %w", err)
	}
	wk := MutableWriteKey(privDER)
	rk := MutableReadKey(wk)
	return MutableKeys{
		WriteKey: wk, ReadKey: rk, StorageIndex: MutableStorageIndex(rk),
		Fingerprint: PubkeyFingerprint(pubDER), WriteEnablerMaster: WriteEnablerMaster(wk),
	}, nil
}

// NewMutableWriteCap returns the SSK (SDMF) or MDMF writecap of an RSA key.
func NewMutableWriteCap(key *rsa.PrivateKey, mdmf bool) (*Cap, error) {
	k, err := DeriveMutableKeys(key)
	if err != nil {
		return nil, err
	}
	if mdmf {
		return NewMDMF(k.WriteKey, k.Fingerprint), nil
	}
	return NewSSK(k.WriteKey, k.Fingerprint), nil
}

// DirectoryOf wraps a mutable or immutable file cap as the directory cap
// backed by that file (SSK → DIR2, MDMF → DIR2-MDMF, CHK → DIR2-CHK, ...).
func DirectoryOf(file *Cap) (*Cap, error) {
	ki, ok := infoOf(file.Kind)
	if !ok || ki.dir {
		return nil, fmt.Errorf("a %s cap cannot back a directory", file.Kind)
	}
	d := *file
	d.Kind = kindFor(ki.fam, true)
	return &d, nil
}

// FileOf returns the file cap behind a directory cap.
func FileOf(dir *Cap) (*Cap, error) {
	ki, ok := infoOf(dir.Kind)
	if !ok || !ki.dir {
		return nil, fmt.Errorf("a %s cap is not a directory", dir.Kind)
	}
	f := *dir
	f.Kind = kindFor(ki.fam, false)
	return &f, nil
}
