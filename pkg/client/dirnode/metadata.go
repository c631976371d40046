package dirnode

import (
	"encoding/json"
	"strconv"
)

// The metadata Tahoe gives a link (and NewMetadata writes), around its two
// numbers: {"tahoe": {"linkcrtime": N, "linkmotime": N}}.
const (
	linkTimesOpen = `{"tahoe": {"linkcrtime": `
	linkTimesMid  = `, "linkmotime": `
	linkTimesEnd  = `}}`
)

// linkTimes reads metadata of exactly the shape Tahoe writes for a link
// and returns the text of its linkmotime number; ok is false for anything
// else (which may still be valid JSON).
func linkTimes(md []byte) (motime []byte, ok bool) {
	s := md
	if len(s) < len(linkTimesOpen) || string(s[:len(linkTimesOpen)]) != linkTimesOpen {
		return nil, false
	}
	s = s[len(linkTimesOpen):]
	n := jsonNumber(s)
	if n == 0 {
		return nil, false
	}
	s = s[n:]
	if len(s) < len(linkTimesMid) || string(s[:len(linkTimesMid)]) != linkTimesMid {
		return nil, false
	}
	s = s[len(linkTimesMid):]
	n = jsonNumber(s)
	if n == 0 || string(s[n:]) != linkTimesEnd {
		return nil, false
	}
	return s[:n], true
}

// jsonNumber is the length of the JSON number (RFC 8259's grammar) at the
// start of b, 0 when there is none.
func jsonNumber(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	return i
}

// validMetadata is json.Valid, quicker for the metadata Tahoe writes.
func validMetadata(md []byte) bool {
	if _, ok := linkTimes(md); ok {
		return true
	}
	return json.Valid(md)
}

// LinkMoTime returns metadata's tahoe.linkmotime, read as encoding/json
// reads it into a float64 field of a struct (so keys match without regard
// to case, and a value of the wrong type gives nothing); ok is false when
// it is absent or cannot be read. The metadata Tahoe writes is read
// without encoding/json.
func LinkMoTime(md json.RawMessage) (t float64, ok bool) {
	if n, fast := linkTimes(md); fast {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, false
		}
		return f, true
	}
	return linkMoTimeJSON(md)
}

// linkMoTimeJSON is LinkMoTime by encoding/json alone: the reading the
// quick one must agree with.
func linkMoTimeJSON(md []byte) (float64, bool) {
	var v struct {
		Tahoe struct {
			LinkMoTime *float64 `json:"linkmotime"`
		} `json:"tahoe"`
	}
	if json.Unmarshal(md, &v) != nil || v.Tahoe.LinkMoTime == nil {
		return 0, false
	}
	return *v.Tahoe.LinkMoTime, true
}
