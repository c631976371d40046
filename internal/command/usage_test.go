package command

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func testApp() *cli.App {
	return &cli.App{
		Name: "tahoe",
		Commands: []*cli.Command{
			{Name: "put", Usage: "upload a file", Flags: []cli.Flag{&cli.BoolFlag{Name: "mutable"}},
				Action: func(*cli.Context) error { return Usagef("put takes FROM and an optional TO") }},
			{Name: "ls", Action: func(*cli.Context) error { return Exit(2, errors.New("No such file or directory")) }},
			Extension(&cli.Command{Name: "chk-cap", Action: func(*cli.Context) error { return Usagef("bad k") }}),
			NotImplemented("create-introducer"),
		},
	}
}

// TestUsageStyles: tahoe reports usage errors as Tahoe's runner does (the
// usage and "tahoe:  message" on stdout, exit 1); lafs, extensions and
// Exit statuses as one line on stderr.
func TestUsageStyles(t *testing.T) {
	cases := []struct {
		name      string
		tahoe     bool
		args      []string
		code      int
		out, errs string // substrings; "" means empty
		noOut     bool
	}{
		{name: "tahoe: bad flag", tahoe: true, args: []string{"put", "--bogus"}, code: 1,
			out: "USAGE:\n   tahoe put [command options]", errs: ""},
		{name: "tahoe: bad flag message", tahoe: true, args: []string{"put", "--bogus"}, code: 1,
			out: "\ntahoe:  option --bogus not recognized\n\n"},
		{name: "tahoe: bad arguments", tahoe: true, args: []string{"put", "a", "b", "c"}, code: 1,
			out: "tahoe:  put takes FROM and an optional TO\n"},
		{name: "tahoe: unknown command", tahoe: true, args: []string{"frob"}, code: 1,
			out: `tahoe:  unknown command "frob"`},
		{name: "tahoe: Exit keeps its status, on stderr", tahoe: true, args: []string{"ls"}, code: 2,
			errs: "tahoe: error: No such file or directory\n", noOut: true},
		{name: "tahoe: an extension keeps exit 2", tahoe: true, args: []string{"chk-cap"}, code: 2,
			errs: "tahoe: error: bad k\n", noOut: true},
		{name: "tahoe: not implemented", tahoe: true, args: []string{"create-introducer", "--x", "dir"}, code: 1,
			errs: "tahoe: error: not implemented by lafs: create-introducer\n", noOut: true},
		{name: "lafs: bad flag", args: []string{"put", "--bogus"}, code: 2,
			errs: "tahoe: error: flag provided but not defined: --bogus\nhint: see 'tahoe put --help'\n", noOut: true},
		{name: "lafs: bad arguments", args: []string{"put", "a"}, code: 2,
			errs: "tahoe: error: put takes FROM", noOut: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f := &Factory{IO: &IO{In: strings.NewReader(""), Out: &out, Err: &errb}, TahoeUsage: tc.tahoe}
			code := Run(context.Background(), testApp(), append([]string{"tahoe"}, tc.args...), f)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(out.String(), tc.out) || (tc.noOut && out.Len() > 0) {
				t.Errorf("stdout %q, want %q in it", out.String(), tc.out)
			}
			if (tc.errs == "" && errb.Len() > 0) || !strings.Contains(errb.String(), tc.errs) {
				t.Errorf("stderr %q, want %q", errb.String(), tc.errs)
			}
		})
	}
}
