package webapi

import (
	"strings"
	"testing"
)

// TestCheckArgsInAForm: as Tahoe's, t=check takes its arguments from a
// POST form as well as from the query (a browser's "Check" button).
func TestCheckArgsInAForm(t *testing.T) {
	e := newEnv(t)
	f := e.put("/uri", strings.Repeat("f", 100)).must(t, 200)
	body := e.form("/uri/"+u(f), map[string]string{"t": "check", "verify": "true", "output": "JSON"}, "", nil).must(t, 200)
	if !strings.HasPrefix(body, "{\n \"storage-index\": ") || !strings.Contains(body, `"count-shares-good": 4,`) {
		t.Errorf("t=check from a form: %q", body)
	}
}
