package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoToken means the store knows no node directory, so it has no
// private/api_auth_token to give the pages that want one.
var ErrNoToken = errors.New("no node directory given, so no private/api_auth_token")

// APIToken returns the node's web API token, private/api_auth_token of
// Options.NodeDir, read on first use. Never log it.
func (s *Store) APIToken() (string, error) {
	s.tokenOnce.Do(func() {
		if s.opts.NodeDir == "" {
			s.tokenErr = ErrNoToken
			return
		}
		b, err := os.ReadFile(filepath.Join(s.opts.NodeDir, "private", "api_auth_token"))
		if err != nil {
			s.tokenErr = fmt.Errorf("reading the web API token: %w", err)
			return
		}
		s.token = strings.TrimSpace(string(b))
		if s.token == "" {
			s.tokenErr = errors.New("private/api_auth_token is empty")
		}
	})
	return s.token, s.tokenErr
}

// TokenJSON fetches one of the node's JSON pages that take the API token
// ("status", "statistics"): `POST /PAGE?t=json` with the form t=json and
// token=TOKEN in the body, as Tahoe's `tahoe status` asks for them. It
// returns the body, bounded by Options.MaxJSON.
func (s *Store) TokenJSON(ctx context.Context, page string) ([]byte, error) {
	op := page + " page"
	if strings.ContainsAny(page, "?#") || strings.HasPrefix(page, "/") {
		return nil, fmt.Errorf("%s: want a page name such as \"status\"", op)
	}
	token, err := s.APIToken()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	form := url.Values{"t": {"json"}, "token": {token}}.Encode()
	body, size, get := bytesBody([]byte(form))
	return s.call(ctx, request{op: op, method: http.MethodPost, path: page, query: "t=json", body: body, size: size, getBody: get,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, s.opts.MaxJSON)
}
