package pyset

import (
	"encoding/json"
	"os"
	"testing"
)

// testdata/pyset-order.json holds inputs and the order CPython 3.11 printed
// for list(set(input)).
func TestPySetOrderMatchesCPython(t *testing.T) {
	b, err := os.ReadFile("testdata/pyset-order.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2][]int
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got := Order(c[0])
		if len(got) != len(c[1]) {
			t.Fatalf("%v: got %v want %v", c[0], got, c[1])
		}
		for i := range got {
			if got[i] != c[1][i] {
				t.Fatalf("%v: got %v want %v", c[0], got, c[1])
			}
		}
	}
}
