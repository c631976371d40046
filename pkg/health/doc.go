// Package health is the vocabulary of checking files: the results of a
// check (which shares are where, happiness, healthy or not by Tahoe-LAFS's
// rules), of a check and repair, and of a deep check, with the JSON Tahoe's
// web API gives for them (t=check&output=JSON, t=stream-deep-check,
// the deep-check operation's status) and the text Tahoe's `tahoe check`
// and `tahoe deep-check` print from that JSON.
//
// It owns only the data and its formats: pkg/client does the checking and
// repairing, pkg/deep walks directory trees, pkg/webapi serves and reads
// the JSON.
package health
