// Package webapi is Tahoe-LAFS's web API served over a filestore.Store:
// the HTTP interface a Tahoe client node gives its CLI, FUSE/SFTP
// front-ends, scripts and browsers (docs/frontends/webapi.rst in the
// Tahoe-LAFS repository), with Tahoe's URLs, query arguments, status codes,
// content types and bodies.
//
// Server is the http.Handler: files (/uri/$FILECAP, /named/, ranges,
// ETags, uploads of every format), directories (mkdir in all its forms,
// attach, set-children, unlink, rename, relink), introspection (t=json in
// Tahoe's exact bytes, t=uri, t=readonly-uri, t=info), the node's own pages
// (the welcome page and its JSON, /statistics, /status) and the routes and
// operation handles of the long operations, which answer 501 Not
// Implemented until check and repair exist. ListenAndServe runs it for a
// node directory: [node] web.port in Tahoe's endpoint syntax, node.url and
// private/api_auth_token written as Tahoe writes them.
//
// A cap in the URL is the only authority; request bodies are spooled to
// temporary files (never held in memory, except mutable files and JSON
// bodies, which are bounded); downloads stream; caps, paths and secrets
// never reach the log.
//
// It does not encode, place or fetch shares (that is the Store's job), and
// it is not the gateway client that speaks to a node's web API
// (pkg/webapi/gateway).
package webapi
