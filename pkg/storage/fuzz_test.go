package storage

import "testing"

func FuzzParseStorageIndex(f *testing.F) {
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("i74rtiv64t7ak26jozv4nn2rkq")
	f.Add("i74rtiv64t7ak26jozv4nn2rkr")
	f.Fuzz(func(t *testing.T, s string) {
		si, err := ParseStorageIndex(s)
		if err == nil && si.String() != s {
			t.Fatalf("%q parsed to %s", s, si)
		}
	})
}
