// Package caps owns Tahoe-LAFS capability strings: parsing, formatting,
// attenuation (writecap → readcap → verifycap), storage indexes, and the
// primitives every other package derives values with — Tahoe's base32 and its
// SHA-256d tagged hashes.
//
// It does not talk to a grid, encrypt or erasure-code data: those live in
// pkg/client. Every function here is pure computation and safe for
// concurrent use.
package caps
