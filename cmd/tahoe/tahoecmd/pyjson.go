package tahoecmd

import "github.com/lafs/lafs/pkg/pyjson"

// Tahoe's web API writes its t=json bodies with Python's
// json.dumps(obj, indent=1), and `tahoe ls --json` prints that body as it
// is; in direct mode we write the same bytes with pkg/pyjson.

// pyObject is a JSON object whose keys keep their order.
type pyObject = pyjson.Object

// pyField is one key and value of a pyObject.
type pyField = pyjson.Field

// pyDumps encodes v as json.dumps(v, indent=1) does.
func pyDumps(v any) string { return string(pyjson.Dumps(v, 1)) }

// pyParse reads JSON keeping its objects' key order and its numbers as
// written.
func pyParse(data []byte) (any, error) { return pyjson.Parse(data) }
