package webapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/filestore"
	"github.com/lafs/lafs/pkg/nodedir"
)

// Endpoint is a parsed [node] web.port: Twisted's "strports" syntax as
// Tahoe takes it ("tcp:3456:interface=127.0.0.1", "tcp:port=0", "3456",
// "tcp6:3456:interface=\:\:1").
type Endpoint struct {
	// Network is "tcp" or "tcp6".
	Network string
	Port    int
	// Interface is the address to bind; "" means every interface (as
	// Twisted: a web.port without interface= is not loopback-only).
	Interface string
}

// Address is host:port for net.Listen.
func (e Endpoint) Address() string { return net.JoinHostPort(e.Interface, strconv.Itoa(e.Port)) }

// ErrDisabled means web.port is unset, empty or "none": the node serves no
// web API (Tahoe starts no web server then).
var ErrDisabled = errors.New("the web API is disabled ([node] web.port is not set)")

// ParseEndpoint reads a web.port value. An empty value or "none" is
// ErrDisabled.
func ParseEndpoint(s string) (Endpoint, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return Endpoint{}, ErrDisabled
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "tcp:" + s // Tahoe prefixes a bare port
	}
	parts, err := splitStrports(s)
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{Network: strings.ToLower(parts[0])}
	switch e.Network {
	case "tcp", "tcp6":
	case "ssl", "tls":
		return Endpoint{}, fmt.Errorf("web.port %q: TLS endpoints are not supported; put a TLS proxy in front of a tcp: endpoint", s)
	default:
		return Endpoint{}, fmt.Errorf("web.port %q: unsupported endpoint type %q (want tcp:PORT[:interface=ADDR])", s, parts[0])
	}
	havePort := false
	for i, p := range parts[1:] {
		k, v, kw := strings.Cut(p, "=")
		if !kw {
			if i != 0 {
				return Endpoint{}, fmt.Errorf("web.port %q: unexpected positional argument %q", s, p)
			}
			k, v = "port", p
		}
		switch k {
		case "port":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return Endpoint{}, fmt.Errorf("web.port %q: bad port %q", s, v)
			}
			e.Port, havePort = n, true
		case "interface":
			if v != "" && net.ParseIP(v) == nil && !validHost(v) {
				return Endpoint{}, fmt.Errorf("web.port %q: bad interface %q", s, v)
			}
			e.Interface = v
		case "backlog":
			if _, err := strconv.Atoi(v); err != nil {
				return Endpoint{}, fmt.Errorf("web.port %q: bad backlog %q", s, v)
			}
		default:
			return Endpoint{}, fmt.Errorf("web.port %q: unknown argument %q", s, k)
		}
	}
	if !havePort {
		return Endpoint{}, fmt.Errorf("web.port %q: no port", s)
	}
	return e, nil
}

// splitStrports splits on unescaped colons; a backslash escapes the next
// character (Twisted's endpoint syntax).
func splitStrports(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("web.port %q ends in a backslash", s)
			}
			i++
			cur.WriteByte(s[i])
		case ':':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String()), nil
}

func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !(c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// NodeURL is what Tahoe writes to node.url for a listener on port: always
// the loopback address, whatever interface it binds.
func NodeURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" }

// WriteAuthToken writes a fresh private/api_auth_token as Tahoe does at
// every start (URL-safe base64 of 32 random bytes and a newline).
func WriteAuthToken(node *nodedir.Node) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("generating the API auth token: %w", err)
	}
	return nodedir.WriteFileAtomic(node.Path("private", "api_auth_token"), []byte(base64.URLEncoding.EncodeToString(b)+"\n"), 0o600)
}

// ServeOptions tune ListenAndServe.
type ServeOptions struct {
	// Server holds the Server's options; Store, TempDir and AuthToken are
	// filled in from the node directory when empty.
	Server Options
	// Logger receives the server's own messages; discarded when nil.
	Logger *slog.Logger
	// Ready, when set, is called with the node URL once the listener is up
	// and node.url is written.
	Ready func(url string)
	// IdleTimeout drops a client that sends or takes nothing for this long
	// (default 2 minutes).
	IdleTimeout time.Duration
}

// ListenAndServe serves the web API of a client node until ctx is done:
// it reads [node] web.port (ErrDisabled when unset or "none"), listens,
// writes private/api_auth_token and node.url as Tahoe does, and serves
// store. Tahoe leaves node.url in place when the node stops; so does this.
func ListenAndServe(ctx context.Context, node *nodedir.Node, store filestore.Store, o ServeOptions) error {
	ep, err := ParseEndpoint(node.Config.String("node", "web.port", ""))
	if err != nil {
		return err
	}
	so := o.Server
	so.Store = store
	if so.TempDir == "" {
		tmp := node.Config.String("node", "tempdir", "tmp")
		if !filepath.IsAbs(tmp) {
			tmp = node.Path(tmp)
		}
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			return fmt.Errorf("creating the temporary directory: %w", err)
		}
		so.TempDir = tmp
	}
	if so.Node.Nickname == "" {
		so.Node.Nickname = node.Nickname()
	}
	if so.MutableFormat == filestore.FormatDefault {
		f, err := filestore.ParseFormat(node.Config.String("client", "mutable.format", "sdmf"))
		if err != nil || !f.Mutable() {
			return fmt.Errorf("%s: [client] mutable.format must be sdmf or mdmf", node.Path("tahoe.cfg"))
		}
		so.MutableFormat = f
	}
	if err := WriteAuthToken(node); err != nil {
		return err
	}
	if so.AuthToken == nil {
		tokenPath := node.Path("private", "api_auth_token")
		so.AuthToken = func() string {
			b, err := os.ReadFile(tokenPath)
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
	}
	h, err := New(so)
	if err != nil {
		return err
	}
	defer h.Close()
	h.idle = o.IdleTimeout
	if h.idle <= 0 {
		h.idle = 2 * time.Minute
	}
	network := ep.Network
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, ep.Address())
	if err != nil {
		return fmt.Errorf("web.port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	u := NodeURL(port)
	if err := nodedir.WriteFileAtomic(node.Path("node.url"), []byte(u+"\n"), 0o644); err != nil {
		ln.Close()
		return err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(30*time.Second, h.idle),
		IdleTimeout:       h.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if o.Ready != nil {
		o.Ready(u)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the web API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	<-errc
	return nil
}
