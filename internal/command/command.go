// Package command holds what the tahoe and lafs binaries share: the I/O a
// command runs against (so tests can inject it), the Factory that opens a
// run's node directory, aliases and file store once and lazily, the
// exit-code table, error reporting (one line with an optional hint, or a
// usage error the way Tahoe's CLI prints it), JSON output, and the wiring
// that makes urfave/cli report usage errors as such. Package location,
// below it, is the one meaning of a path argument.
//
// It owns no command of its own; cmd/tahoe/tahoecmd and cmd/lafs/lafscmd
// build their command trees on it.
package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

// Exit statuses, the one table both binaries use.
const (
	ExitOK    = 0 // success
	ExitError = 1 // an operational failure: bad input data, I/O, the grid
	ExitUsage = 2 // the command line itself is wrong
	// ExitInterrupted is the status of a run stopped by SIGINT or SIGTERM
	// (128+SIGINT, as shells report it); lafs only.
	ExitInterrupted = 130
)

// IO is where a command reads and writes. Real runs use the process's
// streams (System); tests pass buffers.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTTY, OutTTY and ErrTTY say whether the streams are terminals:
	// progress bars and tables for people go only to terminals, and a
	// command never sits waiting for input typed at a terminal by mistake.
	InTTY, OutTTY, ErrTTY bool
	// Quiet suppresses progress and informational messages on Err.
	Quiet bool
	// Width is the terminal's width in columns when Out is one (0:
	// unknown; tables for people then assume 80).
	Width int
}

// System returns the IO of the running process. Out is standard output as
// it is: a write that fails there (a broken pipe, say) fails the command
// that prints, so a cap nobody can read is an error rather than lost. A
// standard output closed at start cannot be told apart (the Go runtime puts
// /dev/null there, opened read-write, as Python's subprocess.DEVNULL and
// service managers do for a script that discards output), so it takes
// what is written, as Tahoe-LAFS's CLI does.
func System() *IO {
	return &IO{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
		Width:  termWidth(os.Stdout),
	}
}

// IgnoreSIGPIPE makes a write to a closed pipe on standard output or error
// fail with EPIPE, which the command reports (exit 1), instead of killing
// the process with SIGPIPE. Call the returned function when done.
func IgnoreSIGPIPE() (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGPIPE)
	return func() { signal.Stop(c) }
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// WriteJSON writes v to w as indented JSON with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteJSONCompact writes v to w as one line of JSON.
func WriteJSONCompact(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Error is an error with an exit status and an optional hint line that
// tells the user what to do next.
type Error struct {
	Err  error
	Code int
	Hint string
	// Kind is the error's code in JSON reports ("" to derive it; see
	// ErrorCode).
	Kind string
	// usage prints the usage of the command that failed (set on usage
	// errors by the wiring of Prepare).
	usage func()
	// plain errors are reported as one line whatever the usage style: a
	// usage error of an Extension command, or an Exit status.
	plain bool
}

// Error is the underlying error's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Usagef returns a usage error (exit status 2).
func Usagef(format string, a ...any) error {
	return &Error{Err: fmt.Errorf(format, a...), Code: ExitUsage}
}

// WithHint wraps err with a hint line; the exit status stays that of err.
func WithHint(err error, hint string) error {
	var ce *Error
	if errors.As(err, &ce) {
		return &Error{Err: ce.Err, Code: ce.Code, Hint: hint, Kind: ce.Kind}
	}
	return &Error{Err: err, Code: ExitError, Hint: hint}
}

// Exit returns err with its own exit status, reported as one line on
// stderr (not as a usage error, whatever the code): for a command whose
// Tahoe-LAFS original exits 2 on a failure (tahoe ls on a missing path).
func Exit(code int, err error) error { return &Error{Err: err, Code: code, plain: true} }

// ErrDone stops a command early with success and no message (for flags
// like --version that answer by themselves).
var ErrDone = errors.New("done")

// CodeOf maps an error to its exit status: nil is 0, a usage error 2, any
// other error 1.
func CodeOf(err error) int {
	if err == nil || errors.Is(err, ErrDone) {
		return ExitOK
	}
	var ce *Error
	if errors.As(err, &ce) && ce.Code != 0 {
		return ce.Code
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 0 {
		return ec.ExitCode()
	}
	return ExitError
}

// Report prints err as "prog: error: message" and, when it has one, a
// "hint: ..." line. Multi-line messages are folded to one line.
func Report(w io.Writer, prog string, err error) {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintf(w, "%s: error: %s\n", prog, msg)
	var ce *Error
	if errors.As(err, &ce) && ce.Hint != "" {
		fmt.Fprintf(w, "hint: %s\n", ce.Hint)
	}
}

// Run runs app with args (args[0] is the program name) against the
// factory's IO, closes what the factory opened, and returns the exit
// status. It never calls os.Exit and never lets a panic escape as a stack
// trace.
func Run(ctx context.Context, app *cli.App, args []string, f *Factory) (code int) {
	prog := app.Name
	stdio := f.IO
	defer func() {
		if r := recover(); r != nil {
			Report(stdio.Err, prog, fmt.Errorf("internal error: %v (please report this bug)", r))
			code = ExitError
		}
	}()
	app.Reader, app.Writer, app.ErrWriter = stdio.In, stdio.Out, stdio.Err
	app.ExitErrHandler = func(*cli.Context, error) {}
	Prepare(app)
	if len(args) > 1 && args[1] == CompleteCommand {
		// A completion request: list candidates, run nothing.
		app.Setup()
		if err := Complete(stdio.Out, app, args[2:], f.Completer); err != nil {
			return ExitError
		}
		return ExitOK
	}
	if f.PermuteFlags {
		args = Permute(app, args)
	}
	err := app.RunContext(ctx, args)
	if err != nil && f.Interrupt && ctx.Err() != nil {
		// Ctrl-C (or SIGTERM): the command stopped where it was; what it
		// links, it links only after the data is stored.
		f.Close()
		if f.JSONErrors {
			reportJSON(stdio.Err, &Error{Err: errors.New("interrupted"), Code: ExitInterrupted})
		} else {
			fmt.Fprintf(stdio.Err, "%s: interrupted\n", prog)
		}
		return ExitInterrupted
	}
	if cerr := f.Close(); cerr != nil && (err == nil || errors.Is(err, ErrDone)) {
		err = fmt.Errorf("closing the file store: %w", cerr)
	}
	var ce *Error
	if f.TahoeUsage && CodeOf(err) == ExitUsage && !(errors.As(err, &ce) && ce.plain) {
		reportTahoeUsage(stdio.Out, prog, err)
		return ExitError
	}
	if err != nil && !errors.Is(err, ErrDone) && !errors.Is(err, ErrReported) {
		switch {
		case f.JSONErrors:
			reportJSON(stdio.Err, err)
		case f.Verbose || f.ShortErrors == nil:
			Report(stdio.Err, prog, err)
		default:
			Report(stdio.Err, prog, f.ShortErrors(err))
		}
	}
	return CodeOf(err)
}

// reportTahoeUsage reports a usage error as Tahoe's runner does: the
// failing command's usage, then "prog:  message" and a blank line, all on
// stdout (and the caller exits 1).
func reportTahoeUsage(w io.Writer, prog string, err error) {
	var ce *Error
	if errors.As(err, &ce) && ce.usage != nil {
		ce.usage()
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintf(w, "%s:  %s\n\n", prog, tahoeFlagMessage(msg))
}

// tahoeFlagMessage words the flag parser's complaint as Tahoe's option
// parser (twisted's, over getopt) does.
func tahoeFlagMessage(msg string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimPrefix(name, "-")
		if len(name) == 1 {
			return "option -" + name + " not recognized"
		}
		return "option --" + name + " not recognized"
	}
	return msg
}

// badValueRe matches the flag parser's "invalid value" complaint.
var badValueRe = regexp.MustCompile(`^invalid value (".*") for flag -+([^:]+): (.*)$`)

// usageOf returns a function printing the usage of cCtx's command (the
// app's when there is none) to the app's writer.
func usageOf(cCtx *cli.Context) func() {
	return func() {
		c := cCtx.Command
		if c == nil || c.Name == "" || c.HasName(cCtx.App.Name) {
			_ = cli.ShowAppHelp(cCtx)
			return
		}
		tpl := cli.CommandHelpTemplate
		if len(c.VisibleCommands()) > 1 || (len(c.VisibleCommands()) == 1 && !c.VisibleCommands()[0].HasName("help")) {
			tpl = cli.SubcommandHelpTemplate
		} else {
			// A leaf command: urfave/cli's added help subcommand is noise.
			leaf := *c
			leaf.Subcommands = nil
			c = &leaf
		}
		cli.HelpPrinter(cCtx.App.Writer, tpl, c)
	}
}

// withUsage attaches the usage of cCtx's command to a usage error.
func withUsage(cCtx *cli.Context, err error) error {
	var ce *Error
	if errors.As(err, &ce) && ce.Code == ExitUsage && ce.usage == nil {
		ce.usage = usageOf(cCtx)
	}
	return err
}

// Prepare makes every command of app report flag errors and unknown
// subcommands as usage errors (exit 2) instead of urfave/cli's defaults.
func Prepare(app *cli.App) {
	app.OnUsageError = onUsageError
	if app.Action == nil {
		app.Action = unknownSubcommand
	}
	if act := app.Action; act != nil {
		app.Action = func(cCtx *cli.Context) error { return withUsage(cCtx, act(cCtx)) }
	}
	for _, c := range app.Commands {
		prepareCommand(c)
	}
}

func prepareCommand(c *cli.Command) {
	if c.OnUsageError == nil {
		c.OnUsageError = onUsageError
	}
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = unknownSubcommand
	}
	if act := c.Action; act != nil {
		c.Action = func(cCtx *cli.Context) error { return withUsage(cCtx, act(cCtx)) }
	}
	for _, s := range c.Subcommands {
		prepareCommand(s)
	}
}

func onUsageError(cCtx *cli.Context, err error, _ bool) error {
	name := cCtx.App.Name
	if cCtx.Command != nil && cCtx.Command.HelpName != "" {
		name = cCtx.Command.HelpName
	}
	hint := "see '" + name + " --help'"
	if flag, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		flags := cCtx.App.Flags
		if cCtx.Command != nil && cCtx.Command.Name != "" {
			flags = cCtx.Command.Flags
		}
		if s := suggestFlag(flags, strings.TrimLeft(flag, "-")); s != "" {
			hint = "did you mean '" + s + "'? (see '" + name + " --help')"
		}
		// The flag as typed: the parser reports "--jsn" as "-jsn".
		if len(strings.TrimLeft(flag, "-")) > 1 {
			err = fmt.Errorf("flag provided but not defined: --%s", strings.TrimLeft(flag, "-"))
		}
	}
	if m := badValueRe.FindStringSubmatch(err.Error()); m != nil {
		err = fmt.Errorf("invalid value %s for flag --%s", m[1], m[2])
		if strings.Contains(m[3], "duration") || strings.Contains(m[3], "unit") || strings.Contains(m[3], "parse error") {
			hint = "a duration is a number and a unit, e.g. 10s, 1m30s (see '" + name + " --help')"
		}
	}
	return &Error{Err: err, Code: ExitUsage, Hint: hint, usage: usageOf(cCtx)}
}

func unknownSubcommand(cCtx *cli.Context) error {
	if cCtx.Args().Present() {
		name := cCtx.Args().First()
		hint := "see '" + helpName(cCtx) + " --help' for the list of commands"
		cmds := cCtx.App.Commands
		if cCtx.Command != nil && len(cCtx.Command.Subcommands) > 0 {
			cmds = cCtx.Command.Subcommands
		}
		if s := suggestCommand(cmds, name); s != "" {
			hint = "did you mean '" + strings.TrimSpace(helpName(cCtx)+" "+s) + "'?"
		}
		return &Error{Err: fmt.Errorf("unknown command %q", name), Code: ExitUsage, Hint: hint}
	}
	// Bare invocation: show what there is to run.
	if cCtx.Command == nil || cCtx.Command.Name == "" || cCtx.Command.HasName(cCtx.App.Name) {
		return cli.ShowAppHelp(cCtx)
	}
	return cli.ShowSubcommandHelp(cCtx)
}

func helpName(cCtx *cli.Context) string {
	if cCtx.Command != nil && cCtx.Command.HelpName != "" {
		return cCtx.Command.HelpName
	}
	return cCtx.App.Name
}

// ExactArgs checks that the command got exactly n positional arguments.
func ExactArgs(cCtx *cli.Context, n int, names string) error {
	if got := cCtx.NArg(); got != n {
		return Usagef("%s takes %d argument(s) (%s), got %d", cCtx.Command.HelpName, n, names, got)
	}
	return nil
}

// ArgOrStdin returns the command's single positional argument, or, when it
// is "-" or absent, the first line of standard input with surrounding white
// space removed. name is used in error messages.
func ArgOrStdin(cCtx *cli.Context, stdio *IO, name string) (string, error) {
	if cCtx.NArg() > 1 {
		return "", Usagef("%s takes one %s, got %d arguments", cCtx.Command.HelpName, name, cCtx.NArg())
	}
	if a := cCtx.Args().First(); a != "" && a != "-" {
		return a, nil
	}
	if stdio.InTTY && cCtx.Args().First() == "" {
		return "", Usagef("no %s given: pass it as an argument, or on standard input with '-'", name)
	}
	b, err := io.ReadAll(io.LimitReader(stdio.In, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading %s from standard input: %w", name, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", Usagef("no %s given (as an argument or on standard input)", name)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", Usagef("standard input holds more than one line; give one %s", name)
	}
	return s, nil
}

// NotImplemented returns a hidden command standing for a Tahoe-LAFS
// subcommand that lafs does not implement: whatever its arguments, it
// fails (exit status 1) with one line, "not implemented by lafs: NAME ...",
// so a user can tell a refusal from a typo.
func NotImplemented(name string) *cli.Command {
	return &cli.Command{
		Name:            name,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(cCtx *cli.Context) error {
			what := strings.TrimPrefix(cCtx.Command.HelpName, cCtx.App.Name+" ")
			return &Error{Err: fmt.Errorf("not implemented by lafs: %s", what), Code: ExitError}
		},
	}
}

// Extension marks c (and its subcommands) as this binary's own extension
// rather than a Tahoe-LAFS command: under Factory.TahoeUsage its usage
// errors still go on stderr with exit status 2, the contract of the
// extensions (there is no Tahoe behaviour to match). It returns c.
func Extension(c *cli.Command) *cli.Command {
	c.OnUsageError = func(cCtx *cli.Context, err error, sub bool) error {
		e := onUsageError(cCtx, err, sub).(*Error)
		e.plain = true
		return e
	}
	if act := c.Action; act != nil {
		c.Action = func(cCtx *cli.Context) error {
			err := act(cCtx)
			var ce *Error
			if errors.As(err, &ce) && ce.Code == ExitUsage {
				ce.plain = true
			}
			return err
		}
	}
	for _, s := range c.Subcommands {
		Extension(s)
	}
	return c
}
