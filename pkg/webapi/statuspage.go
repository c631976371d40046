package webapi

import (
	"fmt"
	"html"
	"strings"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/pyjson"
)

// serveStatus is /status/: the node's active and recent operations
// (Tahoe's Status page; t=json is what `tahoe status` reads). GET and
// POST alike, as Tahoe's CLI POSTs t=json&token=.
func (s *Server) serveStatus(q *request, segs []string) error {
	if len(segs) > 1 || (len(segs) == 1 && segs[0] != "") {
		return notFound()
	}
	active, recent := s.hist.snapshot()
	if strings.ToLower(q.argOr("t", "")) == "json" {
		a := make([]any, len(active))
		for i := range active {
			a[i] = active[i].json()
		}
		r := make([]any, len(recent))
		for i := range recent {
			r[i] = recent[i].json()
		}
		body := append(pyjson.Dumps(pyjson.NewDict().Set("active", a).Set("recent", r), 1), '\n')
		q.w.Header().Set("Content-Type", "application/json")
		q.w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = q.w.Write(body)
		return nil
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tahoe-LAFS - Recent and Active Operations</title></head><body>\n")
	for _, sec := range []struct {
		title string
		ops   []opStatus
	}{{"Active Operations:", active}, {"Recent Operations:", recent}} {
		b.WriteString("<h2>" + sec.title + "</h2>\n")
		if len(sec.ops) == 0 {
			b.WriteString("<p>No " + strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(sec.title, ":"), " Operations")) + " operations.</p>\n")
			continue
		}
		b.WriteString("<table>\n<tr><th>Started</th><th>Type</th><th>Storage Index</th><th>Total Size</th><th>Progress</th><th>Status</th></tr>\n")
		for _, op := range sec.ops {
			b.WriteString("<tr><td>" + html.EscapeString(op.started.UTC().Format("2006-01-02 15:04:05")) + "</td><td>" + html.EscapeString(op.htmlType()) +
				"</td><td>" + html.EscapeString(op.htmlSI()) + "</td><td>" + html.EscapeString(op.htmlSize()) + "</td><td>" +
				html.EscapeString(op.htmlProgress()) + "</td><td>" + html.EscapeString(op.status) + "</td></tr>\n")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body></html>\n")
	return htmlPage(q, b.String())
}

// htmlType is the Type column as Tahoe's status page shows it.
func (op *opStatus) htmlType() string {
	if op.kind == opMapupdate {
		return "mapupdate " + op.mode
	}
	return op.kind
}

func (op *opStatus) htmlSI() string {
	if op.si == nil {
		return "(None)"
	}
	return caps.Base32Encode(op.si)
}

func (op *opStatus) htmlSize() string {
	if op.kind == opMapupdate {
		return "-NA-"
	}
	if op.size < 0 {
		return "(unknown)"
	}
	return abbreviateSize(uint64(op.size))
}

func (op *opStatus) htmlProgress() string {
	switch op.kind {
	case opUpload:
		return fmt.Sprintf("hash: %.1f%%, ciphertext: %.1f%%, encode: %.1f%%", 100*op.progress[0], 100*op.progress[1], 100*op.progress[2])
	case opDownload:
		return fmt.Sprintf("%.1f%%", 100*op.progress[0])
	}
	if op.active {
		return "0.0%"
	}
	return "100.0%"
}
