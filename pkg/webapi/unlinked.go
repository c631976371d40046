package webapi

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/filestore"
)

// serveUnlinked handles /uri itself: unlinked uploads and directories,
// and GET /uri?uri=CAP.
func (s *Server) serveUnlinked(q *request) error {
	t := q.t()
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		vs, ok := q.query["uri"]
		if !ok || len(vs) == 0 {
			return badRequest("GET /uri requires uri=")
		}
		c, err := caps.Parse(vs[0])
		if err != nil || c.IsUnknown() {
			return badRequest("Invalid capability")
		}
		target := "/" + q.prefix + "/" + pyQuote(vs[0])
		rest := url.Values{}
		for k, v := range q.query {
			if k != "uri" {
				rest[k] = v
			}
		}
		if len(rest) > 0 {
			target += "?" + rest.Encode()
		}
		redirectTo(q, target)
		return nil
	case http.MethodPut:
		switch t {
		case "":
			f, err := q.format(filestore.FormatCHK)
			if err != nil {
				return err
			}
			if f.Mutable() {
				data, err := q.smallBody(s.o.MaxMutableSize)
				if err != nil {
					return err
				}
				c, err := s.createMutable(q, data, f)
				if err != nil {
					return err
				}
				return result(q, http.StatusOK, c.String())
			}
			body, size, err := q.body()
			if err != nil {
				return err
			}
			res, err := s.upload(q, body, size)
			if err != nil {
				return err
			}
			return result(q, http.StatusOK, res.Cap.String())
		case "mkdir":
			f, err := q.format(filestore.FormatDefault)
			if err != nil {
				return err
			}
			if f == filestore.FormatCHK {
				return badRequest("format=CHK not accepted for PUT /uri?t=mkdir")
			}
			c, err := s.mkdir(q.r.Context(), filestore.MkdirOptions{Format: f})
			if err != nil {
				return err
			}
			return result(q, http.StatusOK, c.String())
		}
		return badRequest("/uri accepts only PUT, PUT?t=mkdir, POST?t=upload, and POST?t=mkdir")
	case http.MethodPost:
		switch t {
		case "", "upload":
			return s.postUnlinkedUpload(q)
		case "mkdir", "mkdir-with-children", "mkdir-immutable":
			return s.postUnlinkedMkdir(q, t)
		}
		return badRequest("/uri accepts only PUT, PUT?t=mkdir, POST?t=upload, and POST?t=mkdir")
	}
	return methodNotAllowed(q, "GET", "HEAD", "PUT", "POST")
}

// postUnlinkedUpload is POST /uri?t=upload: the form's file, unlinked.
func (s *Server) postUnlinkedUpload(q *request) error {
	if !q.hasFile {
		return badRequest("upload requires a file= form field")
	}
	f, err := q.format(filestore.FormatCHK)
	if err != nil {
		return err
	}
	var c *caps.Cap
	if f.Mutable() {
		data, err := q.fileContents(s.o.MaxMutableSize)
		if err != nil {
			return err
		}
		if c, err = s.createMutable(q, data, f); err != nil {
			return err
		}
		return result(q, http.StatusOK, c.String())
	}
	res, err := s.upload(q, q.file, q.fileSize)
	if err != nil {
		return err
	}
	if to, ok := q.arg("when_done"); ok && to != "" {
		to = strings.ReplaceAll(to, "%(uri)s", pyQuote(res.Cap.String()))
		redirectTo(q, to)
		return nil
	}
	esc := url.PathEscape(res.Cap.String())
	page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - File Uploaded</title></head><body>\n" +
		"<h1>File Uploaded</h1>\n<p>Upload done!</p>\n<p>Your file can be found at: <a href=\"/uri/" + esc + "\">/uri/" + res.Cap.String() + "</a></p>\n" +
		"<p>URI: <tt><span>" + res.Cap.String() + "</span></tt></p>\n</body></html>\n"
	return htmlPage(q, page)
}

// mkdirWithChildren reads the options of t=mkdir-with-children (a
// mutable format=, default SDMF, and the children JSON) or, immutable, of
// t=mkdir-immutable (CHK, immutable children only); the same for an
// unlinked directory and a new child.
func (s *Server) mkdirWithChildren(q *request, immutable bool) (filestore.MkdirOptions, error) {
	var o filestore.MkdirOptions
	var err error
	if immutable {
		o.Format = filestore.FormatCHK
	} else {
		f, err := q.format(filestore.FormatDefault)
		if err != nil {
			return o, err
		}
		if f.Mutable() {
			o.Format = f
		}
	}
	if o.Children, err = s.childrenJSON(q, immutable); err != nil {
		return o, err
	}
	return o, nil
}

// postUnlinkedMkdir is POST /uri?t=mkdir, mkdir-with-children and
// mkdir-immutable.
func (s *Server) postUnlinkedMkdir(q *request, t string) error {
	o := filestore.MkdirOptions{}
	switch t {
	case "mkdir":
		if !q.multi {
			b, err := q.smallBody(s.o.MaxJSONBody)
			if err != nil {
				return err
			}
			if len(b) > 0 {
				return badRequest("t=mkdir does not accept children=, try t=mkdir-with-children instead")
			}
		}
		f, err := q.format(filestore.FormatDefault)
		if err != nil {
			return err
		}
		if f == filestore.FormatCHK {
			return badRequest("format=CHK not currently accepted for POST /uri?t=mkdir")
		}
		o.Format = f
	case "mkdir-with-children", "mkdir-immutable":
		var err error
		if o, err = s.mkdirWithChildren(q, t == "mkdir-immutable"); err != nil {
			return err
		}
	}
	c, err := s.mkdir(q.r.Context(), o)
	if err != nil {
		return err
	}
	redirect, err := q.boolArg("redirect_to_result", false)
	if err != nil {
		return err
	}
	if redirect {
		q.w.Header().Set("Location", "uri/"+url.QueryEscape(c.String()))
		q.w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	return result(q, http.StatusOK, c.String())
}

// privateKeyArg reads private-key= (a DER RSA key, URL-safe base64) for a
// new mutable file or directory; nil when absent.
func privateKeyArg(q *request) (*rsa.PrivateKey, error) {
	v, ok := q.arg("private-key")
	if !ok {
		return nil, nil
	}
	der, err := base64.URLEncoding.DecodeString(v)
	if err != nil {
		return nil, badRequest("private-key= is not URL-safe base64")
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, badRequest("private-key= is not a DER RSA private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, badRequest("private-key= is not an RSA key")
	}
	return rk, nil
}

// serveNamed handles /named/$FILECAP[/NAME...] (and /file/): a download
// whose type comes from the last name.
func (s *Server) serveNamed(q *request, segs []string) error {
	if len(segs) == 0 || segs[0] == "" {
		if q.r.Method == http.MethodGet {
			return errCode(http.StatusNotFound, "/file must be followed by a file-cap and a name")
		}
		return methodNotAllowed(q, "GET")
	}
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return asPage(badRequest("/file can only be used with GET or HEAD"))
	}
	c, err := caps.Parse(segs[0])
	if err != nil {
		return asPage(badRequest("%s is not a valid file- or directory- cap", pyBytesRepr(segs[0])))
	}
	if c.IsDirectory() || c.IsUnknown() {
		return asPage(badRequest("%s is not a file-cap", pyBytesRepr(segs[0])))
	}
	name := ""
	if len(segs) > 1 {
		name = segs[len(segs)-1]
	}
	return s.serveFile(q, &node{cap: c, name: name})
}

// pyQuote escapes as Python's urllib.parse.quote(s) (safe="/").
func pyQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
