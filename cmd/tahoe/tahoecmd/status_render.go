package tahoecmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/lafs/lafs/pkg/pyjson"
)

// The tables of `tahoe status` (Tahoe's box-drawing characters).
const (
	boxTop    = "\u2553" // ╓
	boxTopSep = "\u2565" // ╥
	boxMid    = "\u255f" // ╟
	boxMidSep = "\u256b" // ╫
	boxBot    = "\u2559" // ╙
	boxBotSep = "\u2568" // ╨
	boxSide   = "\u2551" // ║
	boxLine   = "\u2500" // ─
	fullBlock = '\u2588' // █
)

// opAbbrev is the type column of each kind of operation.
var opAbbrev = map[string]string{
	"upload": " put ", "download": " get ", "retrieve": "retr ", "publish": " pub ", "mapupdate": "mapup",
}

func abbrevOf(kind string) string {
	if s, ok := opAbbrev[kind]; ok {
		return s
	}
	return " ??? "
}

// decodeJSON reads a JSON object keeping numbers as written.
func decodeJSON(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("no data")
	}
	return m, nil
}

// pyStr is Python's str() of a JSON value: None, an int as written, a
// float's repr, a string as it is.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case json.Number:
		return pyjson.Number(x)
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

// num is a JSON number's value (0 for anything else).
func num(v any) float64 {
	if n, ok := v.(json.Number); ok {
		f, _ := strconv.ParseFloat(string(n), 64)
		return f
	}
	return 0
}

// abbreviateSpace is Tahoe's abbreviate_space (SI units): "123 B",
// "1.50 kB", "2.00 MB"; "unknown" for null.
func abbreviateSpace(v any) string {
	if v == nil {
		return "unknown"
	}
	s := num(v)
	if s < 1024 {
		return fmt.Sprintf("%d B", int64(s))
	}
	const u = 1000.0
	for _, p := range "kMGTP" {
		u1 := math.Pow(u, float64(strings.IndexRune("kMGTP", p)+1))
		if s < u1*u {
			return fmt.Sprintf("%.2f %cB", s/u1, p)
		}
	}
	return fmt.Sprintf("%.2f EB", s/(u*u*u*u*u*u))
}

// abbreviateTime is Tahoe's abbreviate_time for a number of seconds.
func abbreviateTime(v any) string {
	if v == nil {
		return "unknown"
	}
	s := num(v)
	const hour, day, month, year = 3600.0, 24 * 3600.0, 30 * 24 * 3600.0, 365 * 24 * 3600.0
	plural := func(count float64, unit string) string {
		n := int64(count)
		if n == 1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case s < 120:
		return plural(s, "second")
	case s < 3*hour:
		return plural(s/60, "minute")
	case s < 2*day:
		return plural(s/hour, "hour")
	case s < 2*month:
		return plural(s/day, "day")
	case s < 4*year:
		return plural(s/month, "month")
	}
	return plural(s/year, "year")
}

// prettyProgress is Tahoe's progress bar of size cells for percent: whole
// blocks, then one of eight partial blocks, then spaces.
func prettyProgress(percent float64, size int) string {
	curr := int(percent / 100.0 * float64(size))
	part := (percent / (100.0 / float64(size))) - float64(curr)
	partial := string(rune(0x258f - int(part*8)))
	if percent >= 100.0 {
		partial = ""
	}
	return strings.Repeat(string(fullBlock), max(curr, 0)) + partial + strings.Repeat(" ", max(size-curr-1, 0))
}

// padRight pads s with spaces to n characters (Python's "{:<n}").
func padRight(s string, n int) string {
	if c := len([]rune(s)); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

func rule(left, sep string, widths ...int) string {
	parts := make([]string, len(widths))
	for i, w := range widths {
		parts[i] = strings.Repeat(boxLine, w)
	}
	return left + boxLine + strings.Join(parts, boxLine+sep+boxLine)
}

// renderStatus writes what Tahoe's `tahoe status` prints for the node's
// /status and /statistics JSON.
func renderStatus(w io.Writer, status, stats map[string]any, verbose bool) error {
	counters, _ := stats["counters"].(map[string]any)
	st, _ := stats["stats"].(map[string]any)
	count := func(k string) any {
		if v, ok := counters[k]; ok {
			return v
		}
		return json.Number("0")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Statistics (for last %s):\n", abbreviateTime(st["node.uptime"]))
	fmt.Fprintf(&b, "    uploaded %s in %s files\n", abbreviateSpace(count("uploader.bytes_uploaded")), pyStr(count("uploader.files_uploaded")))
	fmt.Fprintf(&b, "  downloaded %s in %s files\n", abbreviateSpace(count("downloader.bytes_downloaded")), pyStr(count("downloader.files_downloaded")))
	b.WriteString("\n")
	renderActive(&b, status)
	renderRecent(&b, status, verbose)
	_, err := io.WriteString(w, b.String())
	return err
}

func opsOf(status map[string]any, key string) []map[string]any {
	list, _ := status[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func renderActive(b *strings.Builder, status map[string]any) {
	active := opsOf(status, "active")
	if len(active) == 0 {
		b.WriteString("No active operations.\n")
		return
	}
	b.WriteString("Active operations:\n")
	fmt.Fprintf(b, "%s %-5s %s %-26s %s %-22s %s %s\n", boxTop, "type", boxTopSep, "storage index", boxTopSep, "progress", boxTopSep, "status message")
	b.WriteString(rule(boxMid, boxMidSep, 5, 26, 22, 20) + "\n")
	for _, op := range active {
		kind := pyStr(op["type"])
		bar, total := "", "???"
		switch kind {
		case "upload":
			t := (num(op["progress-hash"]) + num(op["progress-ciphertext"]) + num(op["progress-encode-push"])) / 3.0 * 100.0
			total = fmt.Sprintf("%3.0f", t)
			bar = prettyProgress(t, 15)
		case "download":
			total = pyStr(op["progress"])
			bar = prettyProgress(num(op["progress"])*100.0, 15)
		}
		fmt.Fprintf(b, "%s %s %s %s %s %s (%s%%) %s %s\n", boxSide, abbrevOf(kind), boxSide, pyStr(op["storage-index-string"]),
			boxSide, padRight(bar, 15), total, boxSide, pyStr(op["status"]))
	}
	b.WriteString(rule(boxBot, boxBotSep, 5, 26, 22, 20) + "\n")
}

// renderRecent lists the finished uploads and downloads (every kind with
// verbose). As Tahoe's, it says "No recent operations." and then prints
// the section heading anyway.
func renderRecent(b *strings.Builder, status map[string]any, verbose bool) {
	all := opsOf(status, "recent")
	if len(all) == 0 {
		b.WriteString("No recent operations.\n")
	}
	var shown []map[string]any
	for _, op := range all {
		if k := pyStr(op["type"]); k == "upload" || k == "download" {
			shown = append(shown, op)
		}
	}
	table := len(shown) > 0 || verbose
	if verbose {
		shown = all
	}
	b.WriteString("\nRecent operations:\n")
	if table {
		fmt.Fprintf(b, "%s %-5s %s %-26s %s %-10s %s %s\n", boxTop, "type", boxTopSep, "storage index", boxTopSep, "size", boxTopSep, "status message")
	}
	for _, op := range shown {
		kind := pyStr(op["type"])
		size := abbreviateSpace(op["total-size"])
		if kind == "mapupdate" {
			size = pyStr(op["mode"])
		}
		fmt.Fprintf(b, "%s %s %s %s %s %s %s %s\n", boxSide, abbrevOf(kind), boxSide, pyStr(op["storage-index-string"]),
			boxSide, padRight(size, 10), boxSide, pyStr(op["status"]))
	}
	if table {
		b.WriteString(rule(boxBot, boxBotSep, 5, 26, 10, 20) + "\n")
	}
	if skipped := len(all) - len(shown); !verbose && skipped > 0 {
		fmt.Fprintf(b, "   Skipped %d non-upload/download operations; use --verbose to see\n", skipped)
	}
}
