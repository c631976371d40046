package command

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func permuteApp() *cli.App {
	ran := func(*cli.Context) error { panic("an action ran") }
	return &cli.App{
		Name:  "lafs",
		Flags: []cli.Flag{&cli.StringFlag{Name: "node-directory", Aliases: []string{"d"}}, &cli.BoolFlag{Name: "json"}},
		Commands: []*cli.Command{
			{Name: "put", Action: ran, Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}}, &cli.StringFlag{Name: "format"}}},
			{Name: "rm", Action: ran, Flags: []cli.Flag{&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}}}},
			{Name: "completion", Action: ran, ArgsUsage: "bash|zsh|fish"},
			{Name: "raw", Action: ran, SkipFlagParsing: true},
			{Name: "alias", Subcommands: []*cli.Command{{Name: "add", Action: ran, Flags: []cli.Flag{&cli.BoolFlag{Name: "json"}}}, {Name: "ls", Action: ran}}},
			{Name: "secret", Hidden: true, Action: ran},
		},
	}
}

func TestPermute(t *testing.T) {
	cases := []struct{ in, want string }{
		{"lafs put a.txt --json", "lafs --json put -- a.txt"},
		{"lafs rm home:m -r", "lafs rm -r -- home:m"},
		{"lafs put a --format MDMF b", "lafs put --format MDMF -- a b"},
		{"lafs put a -d DIR", "lafs -d DIR put -- a"},
		{"lafs -d DIR put a", "lafs -d DIR put -- a"},
		{"lafs put -- -r", "lafs put -- -r"},
		{"lafs put - -f", "lafs put -f -- -"},
		{"lafs put a --bogus", "lafs put --bogus -- a"},
		{"lafs alias add x --json", "lafs alias add --json -- x"},
		{"lafs raw a -r", "lafs raw a -r"},
		{"lafs nosuch -r", "lafs nosuch -r"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(Permute(permuteApp(), strings.Fields(tc.in)), " "); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestComplete: candidates for each position, and never an action (the
// test app's actions panic).
func TestComplete(t *testing.T) {
	arg := func(cur string) []string { return []string{"home:", "work:"} }
	cases := []struct {
		words string // space-separated; a trailing "|" is an empty current word
		want  string
	}{
		{"|", "alias completion put raw rm"},
		{"p", "put"},
		{"put --", "--force --format --json --node-directory"},
		{"put -", "--force --format --json --node-directory -d -f"},
		{"put --format |", ""},
		{"put |", "home: work:"},
		{"put h", "home:"},
		{"completion |", "bash fish zsh"},
		{"completion bash |", "home: work:"},
		{"alias |", "add ls"},
		{"alias add --", "--json --node-directory"},
		{"-d DIR p", "put"},
		{"raw |", ""},
		{"--", "--json --node-directory"},
	}
	for _, tc := range cases {
		t.Run(tc.words, func(t *testing.T) {
			words := strings.Fields(strings.TrimSuffix(tc.words, "|"))
			if strings.HasSuffix(tc.words, "|") {
				words = append(words, "")
			}
			var out bytes.Buffer
			app := permuteApp()
			app.Setup()
			if err := Complete(&out, app, words, arg); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(out.String()), " "); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	cmds := permuteApp().Commands
	for in, want := range map[string]string{"pt": "put", "rn": "rm", "aliass": "alias", "secrt": "", "zzzzzz": ""} {
		if got := suggestCommand(cmds, in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
