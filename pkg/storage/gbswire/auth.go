package gbswire

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/lafs/lafs/pkg/storage"
)

// Secret kinds carried in X-Tahoe-Authorization headers.
const (
	SecretLeaseRenew   = "lease-renew-secret"
	SecretLeaseCancel  = "lease-cancel-secret"
	SecretUpload       = "upload-secret"
	SecretWriteEnabler = "write-enabler"
)

// SecretHeaderName is the header carrying one secret per value.
const SecretHeaderName = "X-Tahoe-Authorization"

// AuthorizationHeader is the Authorization value for swissnum.
func AuthorizationHeader(swissnum string) string {
	return "Tahoe-LAFS " + base64.StdEncoding.EncodeToString([]byte(swissnum))
}

// SecretHeader is the X-Tahoe-Authorization value carrying one secret.
func SecretHeader(kind string, v []byte) string {
	return kind + " " + base64.StdEncoding.EncodeToString(v)
}

// ParseSecrets parses the X-Tahoe-Authorization headers of h, requiring
// exactly the kinds named: lease secrets and write enablers are 32 bytes,
// no kind may repeat. Errors wrap storage.ErrBadRequest and never quote a
// secret.
func ParseSecrets(h http.Header, want ...string) (map[string][]byte, error) {
	got := map[string][]byte{}
	for _, hv := range h.Values(SecretHeaderName) {
		kind, val, ok := strings.Cut(strings.TrimSpace(hv), " ")
		if !ok {
			return nil, fmt.Errorf("bad X-Tahoe-Authorization header: %w", storage.ErrBadRequest)
		}
		switch kind {
		case SecretLeaseRenew, SecretLeaseCancel, SecretUpload, SecretWriteEnabler:
		default:
			return nil, fmt.Errorf("unknown secret %q: %w", truncate(kind, 40), storage.ErrBadRequest)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("failed to decode secret %s: %w", kind, storage.ErrBadRequest)
		}
		if (kind == SecretLeaseRenew || kind == SecretLeaseCancel || kind == SecretWriteEnabler) && len(b) != 32 {
			return nil, fmt.Errorf("%s must be 32 bytes: %w", kind, storage.ErrBadRequest)
		}
		if _, dup := got[kind]; dup {
			return nil, fmt.Errorf("secret %s given twice: %w", kind, storage.ErrBadRequest)
		}
		got[kind] = b
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("expected secrets %v: %w", want, storage.ErrBadRequest)
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			return nil, fmt.Errorf("expected secrets %v: %w", want, storage.ErrBadRequest)
		}
	}
	return got, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// LeaseFrom builds lease secrets from parsed secrets.
func LeaseFrom(sec map[string][]byte) storage.LeaseSecrets {
	var l storage.LeaseSecrets
	copy(l.Renew[:], sec[SecretLeaseRenew])
	copy(l.Cancel[:], sec[SecretLeaseCancel])
	return l
}
