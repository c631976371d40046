package command

import "errors"

// ErrReported is the error of a command that has already told the user
// what went wrong, in its own words (Tahoe's commands print their own
// messages, with no "prog: error:" prefix): Run prints nothing more and
// exits with the status Reported gave.
var ErrReported = errors.New("failure already reported")

// Reported returns ErrReported with exit status code, for a command that
// printed its own error message.
func Reported(code int) error { return &Error{Err: ErrReported, Code: code, plain: true} }
