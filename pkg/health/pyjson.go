package health

import "github.com/lafs/lafs/pkg/pyjson"

// Field is one key and value of an Object.
type Field = pyjson.Field

// Object is a JSON object whose keys keep their order, as Python's dicts
// do (encoding/json would sort them).
type Object = pyjson.Object

// PyJSON renders v as Python's json.dumps does with ensure_ascii: with
// indent >= 0 as json.dumps(v, indent=indent) (one item per line,
// separators "," and ": "), with indent < 0 on one line (separators ", "
// and ": "). Values are those of pyjson.Dumps: Object, []any, []string,
// []int, [][]any, string, int, int64, uint64, bool, nil and more.
func PyJSON(v any, indent int) string { return string(pyjson.Dumps(v, indent)) }
