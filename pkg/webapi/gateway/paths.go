package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/filestore"
)

// The methods in this file are the web API's path-based calls, which
// Tahoe's own CLI uses and filestore.Store does not have: each does in
// one request what a Store does in several, with the node's own rules
// (intermediate directories created, a mutable file at the path
// overwritten in place, replace=only-files). A command that wants Tahoe's
// exact behaviour in gateway mode can type-assert for them.

// PutOptions tune PutFile.
type PutOptions struct {
	// Format of a new file: FormatDefault or FormatCHK for an immutable
	// one, FormatSDMF or FormatMDMF for a mutable one. An existing mutable
	// file at the path is overwritten in place whatever the format.
	Format filestore.Format
	// Progress, when set, is told how many bytes have been sent.
	Progress func(done int64)
}

// PutFile uploads size bytes of src to the path below root (`PUT
// /uri/$ROOT/PATH`, what `tahoe put FILE alias:path` does): missing
// directories on the way are created, an immutable file at the path is
// replaced, a mutable one is overwritten in place. It returns the file's
// cap and whether the name is new (the node's 201 Created, else 200 OK).
func (s *Store) PutFile(ctx context.Context, root *caps.Cap, path string, src io.ReaderAt, size int64, o PutOptions) (*caps.Cap, bool, error) {
	parts := normalized(path)
	op := fmt.Sprintf("put %q", strings.Join(parts, "/"))
	if len(parts) == 0 {
		return nil, false, fmt.Errorf("%s: no file name below the root", op)
	}
	if err := checkWritableDir(op, root); err != nil {
		return nil, false, err
	}
	var query string
	switch o.Format {
	case filestore.FormatDefault:
	case filestore.FormatCHK, filestore.FormatSDMF, filestore.FormatMDMF:
		query = "format=" + o.Format.String()
	default:
		return nil, false, fmt.Errorf("%s: unknown format %d", op, o.Format)
	}
	c, code, err := s.putContents(ctx, op, capPath(root.String(), parts...), query, src, size, o.Progress)
	if err != nil {
		return nil, false, err
	}
	return c, code == http.StatusCreated, nil
}

// MkdirPath makes sure the path below root is a directory (`POST
// /uri/$ROOT/PATH?t=mkdir`, what `tahoe mkdir alias:path` does): missing
// directories on the way are created, an existing directory is left as
// it is. It returns the directory's cap. format is that of the last
// directory if it is new (FormatDefault: the node's default).
func (s *Store) MkdirPath(ctx context.Context, root *caps.Cap, path string, format filestore.Format) (*caps.Cap, error) {
	parts := normalized(path)
	op := fmt.Sprintf("mkdir %q", strings.Join(parts, "/"))
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s: no directory name below the root", op)
	}
	if err := checkWritableDir(op, root); err != nil {
		return nil, err
	}
	f, err := mutableFormat(format, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	query := "t=mkdir"
	if f != "" {
		query += "&format=" + f
	}
	return s.mkdirAt(ctx, op, capPath(root.String(), parts...), query)
}

func (s *Store) mkdirAt(ctx context.Context, op, path, query string) (*caps.Cap, error) {
	out, err := s.call(ctx, request{op: op, method: http.MethodPost, path: path, query: query}, maxCapResponse)
	if err != nil {
		return nil, err
	}
	c, err := capResponse(op, out)
	if err != nil {
		return nil, err
	}
	if !c.IsDirectory() {
		return nil, fmt.Errorf("%s: the node answered with a %s cap, not a directory: %w", op, c.Kind, filestore.ErrNotDirectory)
	}
	return c, nil
}

// Replace says what LinkPath does with an existing name.
type Replace int

// The replace modes of `PUT ...?t=uri&replace=`.
const (
	ReplaceNever     Replace = iota // replace=false: an existing name is ErrExists
	ReplaceAlways                   // replace=true
	ReplaceOnlyFiles                // replace=only-files: a file is replaced, a directory is ErrExists (tahoe mv, ln)
)

// LinkPath links child at the path below root (`PUT
// /uri/$ROOT/PATH?t=uri&replace=...`, what `tahoe mv` and `tahoe ln` do),
// creating missing directories on the way.
func (s *Store) LinkPath(ctx context.Context, root *caps.Cap, path string, child *caps.Cap, replace Replace) error {
	parts := normalized(path)
	op := fmt.Sprintf("link %q", strings.Join(parts, "/"))
	if len(parts) == 0 {
		return fmt.Errorf("%s: no name below the root", op)
	}
	if err := checkWritableDir(op, root); err != nil {
		return err
	}
	query := map[Replace]string{ReplaceNever: "t=uri&replace=false", ReplaceAlways: "t=uri&replace=true", ReplaceOnlyFiles: "t=uri&replace=only-files"}[replace]
	if query == "" {
		return fmt.Errorf("%s: unknown replace mode %d", op, replace)
	}
	body, size, get := bytesBody([]byte(child.String()))
	_, err := s.call(ctx, request{op: op, method: http.MethodPut, path: capPath(root.String(), parts...), query: query, body: body, size: size, getBody: get}, maxCapResponse)
	return err
}

// normalized splits a path into NFC child names, dropping empty ones.
func normalized(path string) []string {
	parts := splitPath(path)
	for i, p := range parts {
		parts[i] = dirnode.Normalize(p)
	}
	return parts
}
