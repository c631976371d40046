package webapi

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/pyjson"
)

// serveWelcome is GET / (the welcome page) and GET /?t=json.
func (s *Server) serveWelcome(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead && q.r.Method != http.MethodPost {
		return methodNotAllowed(q, "GET", "HEAD", "POST")
	}
	t, _ := q.arg("t")
	switch strings.ToLower(t) {
	case "json":
		v, err := s.welcomeJSON(q)
		if err != nil {
			return err
		}
		q.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		body := append(pyjson.Dumps(v, 1), '\n')
		q.w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if q.r.Method != http.MethodHead {
			_, _ = q.w.Write(body)
		}
		return nil
	case "", "html":
		return s.welcomeHTML(q)
	}
	return &webError{code: http.StatusBadRequest, page: true, brief: "Bad Format", text: fmt.Sprintf("Unknown t value: '%s'", t)}
}

// gridStatus asks the store about its servers (nil when it cannot say).
func (s *Server) gridStatus(q *request) *filestore.GridStatus {
	rep, ok := s.o.Store.(filestore.Reporter)
	if !ok {
		return nil
	}
	gs, err := rep.GridStatus(q.r.Context(), s.o.StatusTimeout)
	if err != nil && gs == nil {
		return nil
	}
	return gs
}

// welcomeJSON is Tahoe's JSON welcome page: introducers and servers, plus
// this node's own storage server when it has one (#2476).
func (s *Server) welcomeJSON(q *request) (any, error) {
	servers := []any{}
	now := unixFloat(s.o.Now())
	if gs := s.gridStatus(q); gs != nil {
		for _, sv := range gs.Servers {
			d := pyjson.NewDict()
			d.Set("nodeid", sv.ID)
			// Tahoe's summaries for an HTTP storage server.
			status := "connected"
			if !sv.Reachable {
				status = "failure: " + sv.Error
			}
			d.Set("connection_status", status)
			if sv.AvailableSpace != nil {
				d.Set("available_space", *sv.AvailableSpace)
			} else {
				d.Set("available_space", nil)
			}
			d.Set("nickname", sv.Nickname)
			if sv.Version != "" && sv.Reachable {
				d.Set("version", sv.Version)
			} else {
				d.Set("version", nil)
			}
			if sv.Reachable {
				d.Set("last_received_data", now)
			} else {
				d.Set("last_received_data", nil)
			}
			servers = append(servers, d)
		}
	}
	out := pyjson.NewDict()
	out.Set("introducers", pyjson.NewDict().Set("statuses", []any{}))
	out.Set("servers", servers)
	if s.o.Node.Storage != nil {
		st, err := s.o.Node.Storage(q.r.Context())
		if err != nil {
			out.Set("storage_server", pyjson.NewDict().Set("error", err.Error()))
		} else if st != nil {
			o := pyjson.NewDict()
			o.Set("nodeid", st.NodeID)
			o.Set("nickname", st.Nickname)
			o.Set("version", st.Version)
			o.Set("accepting_immutable_shares", st.AcceptingImmutableShares)
			if st.AvailableSpace != nil {
				o.Set("available_space", *st.AvailableSpace)
			} else {
				o.Set("available_space", nil)
			}
			out.Set("storage_server", o)
		}
	}
	return out, nil
}

// welcomeHTML is the plain HTML welcome page.
func (s *Server) welcomeHTML(q *request) error {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Welcome</title></head><body>\n")
	b.WriteString("<h1>Tahoe-LAFS</h1>\n<h2>Node</h2>\n<table>\n")
	fmt.Fprintf(&b, "<tr><th>Nickname:</th><td>%s</td></tr>\n", e(s.o.Node.Nickname))
	fmt.Fprintf(&b, "<tr><th>Node ID:</th><td>%s</td></tr>\n", e(s.o.Node.NodeID))
	fmt.Fprintf(&b, "<tr><th>Version:</th><td>%s</td></tr>\n", e(s.o.Node.Version))
	services := "Not running storage server"
	if s.o.Node.Storage != nil {
		services = "Storage Server"
		if st, err := s.o.Node.Storage(q.r.Context()); err == nil && st != nil {
			if st.AcceptingImmutableShares {
				services += ": accepting new shares"
			} else {
				services += ": not accepting new shares (read-only)"
			}
			if st.AvailableSpace != nil {
				services += ", " + abbreviateSize(*st.AvailableSpace) + " available"
			}
		}
	}
	fmt.Fprintf(&b, "<tr><th>Services:</th><td>%s</td></tr>\n</table>\n", e(services))
	b.WriteString("<h2>File store</h2>\n")
	b.WriteString("<form action=\"uri\" method=\"post\" enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"t\" value=\"mkdir\"><input type=\"hidden\" name=\"redirect_to_result\" value=\"true\"><input type=\"submit\" value=\"Create a directory\"></form>\n")
	b.WriteString("<form action=\"uri\" method=\"get\">Open a file or directory by cap: <input type=\"text\" name=\"uri\"><input type=\"submit\" value=\"View\"></form>\n")
	b.WriteString("<form action=\"uri\" method=\"post\" enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"t\" value=\"upload\"><input type=\"file\" name=\"file\"><input type=\"submit\" value=\"Upload\"></form>\n")
	gs := s.gridStatus(q)
	b.WriteString("<h2>Storage servers</h2>\n")
	if gs == nil {
		b.WriteString("<p>No grid status available.</p>\n")
	} else {
		connected := 0
		for _, sv := range gs.Servers {
			if sv.Reachable {
				connected++
			}
		}
		fmt.Fprintf(&b, "<p>Connected to %d of %d known storage servers (%s grid).</p>\n<table>\n<tr><th>Nickname</th><th>Node ID</th><th>Connected</th><th>Version</th><th>Available</th></tr>\n", connected, len(gs.Servers), e(gs.Kind))
		for _, sv := range gs.Servers {
			conn, avail := "yes", "N/A"
			if !sv.Reachable {
				conn = "no"
			}
			if sv.AvailableSpace != nil {
				avail = abbreviateSize(*sv.AvailableSpace)
			}
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", e(sv.Nickname), e(sv.ID), conn, e(sv.Version), avail)
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body></html>\n")
	return htmlPage(q, b.String())
}

// abbreviateSize is Tahoe's abbreviate_size (powers of 1000).
func abbreviateSize(n uint64) string {
	r := float64(n)
	switch {
	case r > 1e9:
		return fmt.Sprintf("%.2fGB", r/1e9)
	case r > 1e6:
		return fmt.Sprintf("%.2fMB", r/1e6)
	case r > 1e3:
		return fmt.Sprintf("%.1fkB", r/1e3)
	}
	return fmt.Sprintf("%.0fB", r)
}

// serveStatistics is /statistics: the node's counters, as Tahoe's stats
// provider reports them.
func (s *Server) serveStatistics(q *request, segs []string) error {
	if len(segs) > 1 || (len(segs) == 1 && segs[0] != "") {
		return notFound()
	}
	c := &s.stats
	counters := pyjson.NewDict().
		Set("downloader.bytes_downloaded", c.bytesDownloaded.Load()).
		Set("downloader.files_downloaded", c.filesDownloaded.Load()).
		Set("mutable.bytes_published", c.bytesPublished.Load()).
		Set("mutable.bytes_retrieved", c.bytesRetrieved.Load()).
		Set("mutable.files_published", c.filesPublished.Load()).
		Set("mutable.files_retrieved", c.filesRetrieved.Load()).
		Set("uploader.bytes_uploaded", c.bytesUploaded.Load()).
		Set("uploader.files_uploaded", c.filesUploaded.Load())
	uptime := s.o.Now().Sub(s.started).Seconds()
	stats := pyjson.NewDict().Set("node.uptime", uptime)
	if s.o.Node.Storage != nil {
		if st, err := s.o.Node.Storage(q.r.Context()); err == nil && st != nil {
			stats.Set("storage_server.accepting_immutable_shares", boolInt(st.AcceptingImmutableShares))
			if st.AvailableSpace != nil {
				stats.Set("storage_server.disk_avail", *st.AvailableSpace)
			}
		}
	}
	v := pyjson.NewDict().Set("counters", counters).Set("stats", stats)
	if strings.ToLower(q.argOr("t", "")) == "json" {
		return textPlain(q, string(append(pyjson.Dumps(v, 1), '\n')))
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Operational Statistics</title></head><body>\n<h1>Operational Statistics</h1>\n<pre>")
	b.WriteString(html.EscapeString(string(pyjson.Dumps(v, 1))))
	b.WriteString("</pre>\n</body></html>\n")
	return htmlPage(q, b.String())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// serveStorage is /storage: this node's storage server (Tahoe's
// StorageStatus page), 404 when it stores no shares... as Tahoe, which
// then says "No Storage Server Running".
func (s *Server) serveStorage(q *request, segs []string) error {
	if len(segs) > 1 || (len(segs) == 1 && segs[0] != "") {
		return notFound()
	}
	var st *StorageStatus
	if s.o.Node.Storage != nil {
		var err error
		if st, err = s.o.Node.Storage(q.r.Context()); err != nil {
			return err
		}
	}
	if strings.ToLower(q.argOr("t", "")) == "json" {
		stats := pyjson.NewDict()
		if st != nil {
			stats.Set("storage_server.accepting_immutable_shares", boolInt(st.AcceptingImmutableShares))
			if st.AvailableSpace != nil {
				stats.Set("storage_server.disk_avail", *st.AvailableSpace)
			}
		}
		v := pyjson.NewDict().Set("stats", stats).Set("bucket-counter", nil).Set("lease-checker", nil)
		q.w.Header().Set("Content-Type", "text/plain")
		return textPlain(q, string(pyjson.Dumps(v, 1)))
	}
	if st == nil {
		return htmlPage(q, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Storage Server Status</title></head><body>\n<h1>No Storage Server Running</h1>\n</body></html>\n")
	}
	return htmlPage(q, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Storage Server Status</title></head><body>\n<h1>Storage Server Status</h1>\n<p>Accepting new shares: "+map[bool]string{true: "Yes", false: "No"}[st.AcceptingImmutableShares]+"</p>\n</body></html>\n")
}

// serveHelperStatus is /helper_status: this node runs no helper.
func (s *Server) serveHelperStatus(q *request) error {
	if strings.ToLower(q.argOr("t", "")) == "json" {
		return textPlain(q, "{}\n")
	}
	return htmlPage(q, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Helper Status</title></head><body>\n<h1>No helper running</h1>\n</body></html>\n")
}

// servePrivate is /private/: every request needs "Authorization:
// tahoe-lafs <api_auth_token>" (Tahoe's private tree); behind it there is
// nothing yet (Tahoe's /private/logs/v1 is a websocket of its own logs).
func (s *Server) servePrivate(q *request, segs []string) error {
	token := ""
	if s.o.AuthToken != nil {
		token = strings.TrimSpace(s.o.AuthToken())
	}
	auth := q.r.Header.Get("Authorization")
	scheme, given, _ := strings.Cut(auth, " ")
	if token == "" || !strings.EqualFold(scheme, "tahoe-lafs") ||
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(given)), []byte(token)) != 1 {
		q.w.Header().Set("WWW-Authenticate", `tahoe-lafs realm="tahoe-lafs"`)
		q.w.Header().Set("Content-Type", "text/html")
		q.w.Header().Set("Content-Length", "12")
		q.w.WriteHeader(http.StatusUnauthorized)
		_, _ = q.w.Write([]byte("Unauthorized"))
		return nil
	}
	return notFound()
}
