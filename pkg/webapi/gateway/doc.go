// Package gateway is the gateway implementation of filestore.Store: every
// method is one or a few HTTP calls to a running node's web API (Tahoe's
// "WAPI", the node.url of a node directory), made the way Tahoe-LAFS's own
// command line makes them, so it drives a real Tahoe-LAFS node as well as
// our own `tahoe run`.
//
// It owns the client side of the web API: building the URLs (caps and
// child names percent-encoded as Tahoe's CLI encodes them), streaming
// request and response bodies, parsing what the node sends (the t=json
// description of a file or directory, the JSON welcome page, error
// bodies in text, HTML or traceback form) and mapping Tahoe's error
// statuses onto filestore's sentinel errors with Tahoe's message kept.
// It also reads private/api_auth_token for the few pages that want it.
//
// It does not encode, encrypt or place anything itself (the node does),
// it does not choose between a gateway and the direct grid client (that
// is pkg/lafs), and it is not the web API server (pkg/webapi).
//
// No cap, private key or token appears in an error this package returns:
// request URLs are never quoted, and caps inside Tahoe's messages are cut
// to their prefix.
package gateway
