package mcpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// EndpointPath is where the HTTP front serves MCP.
const EndpointPath = "/mcp"

// MetricsPath is where it serves Prometheus metrics, when configured.
const MetricsPath = "/metrics"

// DefaultMaxBody is the largest request body the HTTP front accepts unless
// configured otherwise: a 50,000-character message in JSON is far below it.
const DefaultMaxBody = 1 << 20

// HTTPConfig configures the Streamable HTTP front. Zero durations take the
// defaults documented on each field.
type HTTPConfig struct {
	// Token, when set, is a static bearer secret every request must carry
	// (Authorization: Bearer <token>). It gates the transport; the bridge's
	// session tokens still authorise each tool call.
	Token []byte
	// AllowOrigins are extra browser origins (scheme://host[:port]) allowed
	// to call. Requests without an Origin header (every non-browser client)
	// are not affected; loopback origins are allowed on a loopback listener.
	AllowOrigins []string
	// MaxBody is the largest request body in bytes (default DefaultMaxBody).
	MaxBody int64
	// ReadHeaderTimeout bounds reading a request's headers (default 10s),
	// BodyTimeout its body (default 30s), IdleTimeout a kept-alive idle
	// connection (default 2m). There is no write timeout: check_messages may
	// wait up to 10 minutes and a client's listening stream lasts as long as
	// it likes.
	ReadHeaderTimeout, BodyTimeout, IdleTimeout time.Duration
	// Grace bounds how long shutdown waits for calls in flight (default 10s).
	Grace time.Duration
	// Metrics, when set, is served at MetricsPath behind the same guards
	// (bearer, origin) as MCP.
	Metrics http.Handler
	// SessionKey authenticates the MCP session ids this node mints; nodes
	// that share a store and a key accept each other's ids. Without it ids
	// are valid on this node only.
	SessionKey []byte
	// SessionEnds, when set, records sessions ended by DELETE in the store,
	// so that every node sharing it (and SessionKey) refuses them; without
	// it an end holds on this node only.
	SessionEnds SessionEnds
}

// HTTP serves an MCP server over Streamable HTTP at EndpointPath, with
// origin, host, size and optional bearer checks in front of it.
type HTTP struct {
	cfg     HTTPConfig
	log     *slog.Logger
	mcp     *server.StreamableHTTPServer
	handler http.Handler

	// draining is cancelled when shutdown begins: waiting check_messages
	// calls end at once, taking nothing.
	draining context.Context
	drain    context.CancelFunc
	srv      *http.Server
	tokenSum [32]byte
}

// NewHTTP returns the HTTP front for s. It validates cfg: an allowed origin
// must be scheme://host[:port].
func NewHTTP(s *server.MCPServer, cfg HTTPConfig, log *slog.Logger) (*HTTP, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 10*time.Second)
	def(&cfg.BodyTimeout, 30*time.Second)
	def(&cfg.IdleTimeout, 2*time.Minute)
	def(&cfg.Grace, 10*time.Second)
	origins := make([]string, 0, len(cfg.AllowOrigins))
	for _, o := range cfg.AllowOrigins {
		n, err := normalOrigin(o)
		if err != nil {
			return nil, err
		}
		origins = append(origins, n)
	}
	cfg.AllowOrigins = origins
	h := &HTTP{cfg: cfg, log: log}
	if len(cfg.Token) > 0 {
		h.tokenSum = sha256.Sum256(cfg.Token)
	}
	h.draining, h.drain = context.WithCancel(context.Background())
	h.srv = &http.Server{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Session ids are MACed under a key the nodes share (sessionIDs), so a
	// client may move between nodes but a forged id, or one ended by
	// DELETE on any node, gets 404.
	// mcp-go's own Host check (DNS rebinding on loopback connections)
	// stays on.
	opts := []server.StreamableHTTPOption{
		server.WithEndpointPath(EndpointPath),
		server.WithSessionIdManagerResolver(newSessionIDs(cfg.SessionKey, cfg.SessionEnds)),
		server.WithHTTPContextFunc(withRemoteHost),
		server.WithStreamableHTTPLogger(log),
		server.WithStreamableHTTPServer(h.srv),
	}
	if len(origins) > 0 {
		// Browsers need CORS headers to read answers from allowed origins.
		opts = append(opts, server.WithStreamableHTTPCORS(
			server.WithCORSAllowedOrigins(origins...),
			server.WithCORSAllowedHeaders("Content-Type", "Authorization", server.HeaderKeySessionID, "Mcp-Protocol-Version", "Last-Event-ID"),
		))
	}
	h.mcp = server.NewStreamableHTTPServer(s, opts...)
	mux := http.NewServeMux()
	mux.Handle(EndpointPath, h.guard(h.mcp))
	if cfg.Metrics != nil {
		mux.Handle("GET "+MetricsPath, h.guard(cfg.Metrics))
	}
	if len(cfg.Token) > 0 {
		// Clients that take a 401 for the start of OAuth look for OAuth
		// metadata, then register themselves: the answers tell the person
		// to add the header instead (see noOAuth).
		mux.HandleFunc("/.well-known/", h.noOAuth(http.StatusNotFound))
		mux.HandleFunc("/register", h.noOAuth(http.StatusBadRequest))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Not found: agent-bridge serves MCP at "+EndpointPath, http.StatusNotFound)
	})
	h.handler = mux
	h.srv.Handler = mux
	return h, nil
}

// Handler returns the front as an http.Handler (for tests and embedding).
func (h *HTTP) Handler() http.Handler { return h.handler }

// Drain makes waiting check_messages calls end at once, without taking
// messages. Serve calls it when its context ends.
func (h *HTTP) Drain() { h.drain() }

// Serve accepts connections on ln until ctx is done, with TLS when cert and
// key files are given. Then it stops accepting, ends waiting calls and
// gives calls in flight up to the grace period before closing connections.
func (h *HTTP) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- h.srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- h.srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		h.drain()
		return err
	case <-ctx.Done():
	}
	h.log.Info("shutting down: no new connections; waiting calls end now", "grace", h.cfg.Grace)
	h.drain()
	sctx, cancel := context.WithTimeout(context.Background(), h.cfg.Grace)
	defer cancel()
	err := h.mcp.Shutdown(sctx)
	if err != nil {
		h.log.Warn("calls still running after the grace period; closing their connections", "grace", h.cfg.Grace)
		h.srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return nil
}

type drainKey struct{}

// waitContext returns ctx, also cancelled when the front that received the
// request starts shutting down, and a function telling whether that is why.
func waitContext(ctx context.Context) (context.Context, func() bool, context.CancelFunc) {
	d, ok := ctx.Value(drainKey{}).(context.Context)
	if !ok {
		return ctx, func() bool { return false }, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(d, cancel)
	return ctx, func() bool { return d.Err() != nil }, func() { stop(); cancel() }
}

// guard checks, in order: the Origin header, the bearer secret and the
// body size; then it hands the request to mcp-go.
func (h *HTTP) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !h.originAllowed(r, o) {
			h.log.Warn("refused a request from a browser origin", "origin", o, "remote", r.RemoteAddr)
			http.Error(w, fmt.Sprintf("Forbidden: origin %q may not call this agent-bridge node; start it with --http-allow-origin %s to allow it.", o, o), http.StatusForbidden)
			return
		}
		// A CORS preflight from an allowed origin carries no credentials by
		// design; mcp-go answers it with the CORS headers and nothing else.
		preflight := r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
		if len(h.cfg.Token) > 0 && !preflight && !h.authorized(r) {
			h.log.Debug("refused a request without the bearer secret", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="agent-bridge"`)
			http.Error(w, "Unauthorized: "+addHeaderHint(r), http.StatusUnauthorized)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), drainKey{}, h.draining))
		if r.Method == http.MethodPost {
			body, ok := h.readBody(w, r)
			if !ok || !shapeOK(w, r, body, next) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// addHeaderHint tells a person what a request without the right bearer
// secret lacks and how to add it, with the URL the client used. It never
// contains the secret.
func addHeaderHint(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := scheme + "://" + r.Host + EndpointPath
	return "this agent-bridge node needs the header Authorization: Bearer <secret> on every request, " +
		"with the secret from the node's --http-token-file; the request had none or a wrong one. " +
		"The node does not use OAuth: add the header to the client's configuration, for Claude Code: " +
		`claude mcp add --transport http agent-bridge ` + u + ` --header "Authorization: Bearer <secret>"`
}

// noOAuth answers the OAuth discovery and registration requests that a
// client makes after a 401 (MCP authorization: protected resource
// metadata, authorization server metadata, then dynamic client
// registration at /register) with an OAuth error whose description says to
// add the bearer header. Claude Code, for one, shows the registration
// error's description (or body) to the person; without these answers it
// showed "Dynamic Client Registration rejected (HTTP 404)". Discovery
// answers 404, so the client does not take the node for an authorization
// server; registration answers 400 (RFC 7591's error response).
func (h *HTTP) noOAuth(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.log.Debug("answered an OAuth request: this node takes a bearer secret", "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error":             "invalid_request",
			"error_description": addHeaderHint(r),
		})
	}
}

// authorized compares the bearer secret in constant time (of equal-length
// digests, so the secret's length does not leak either).
func (h *HTTP) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(auth[len(prefix):])))
	return subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) == 1
}

// originAllowed allows configured origins, and loopback origins when the
// request came in on a loopback address (a page on the same machine).
func (h *HTTP) originAllowed(r *http.Request, origin string) bool {
	n, err := normalOrigin(origin)
	if err != nil {
		return false // "null" and other opaque origins
	}
	for _, a := range h.cfg.AllowOrigins {
		if a == n {
			return true
		}
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil || !Loopback(local.String()) {
		return false
	}
	u, _ := url.Parse(n)
	return Loopback(u.Hostname())
}

// readBody reads at most MaxBody bytes of the body within BodyTimeout; a
// larger body is refused with 413 without reading the rest.
func (h *HTTP) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	tooLarge := func() ([]byte, bool) {
		w.Header().Set("Connection", "close")
		http.Error(w, fmt.Sprintf("Request body too large: the limit is %d bytes (a message is at most 50,000 characters; the node's --http-max-body sets this limit).", h.cfg.MaxBody), http.StatusRequestEntityTooLarge)
		return nil, false
	}
	// The deadline also bounds what the server discards after a refusal.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(h.cfg.BodyTimeout))
	if r.ContentLength > h.cfg.MaxBody {
		return tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBody+1))
	if err != nil {
		// The deadline stays: the server must not wait for the rest.
		w.Header().Set("Connection", "close")
		http.Error(w, fmt.Sprintf("Could not read the request body within %s: %v", h.cfg.BodyTimeout, err), http.StatusBadRequest)
		return nil, false
	}
	if int64(len(body)) > h.cfg.MaxBody {
		return tooLarge()
	}
	_ = rc.SetReadDeadline(time.Time{}) // the call itself may take minutes
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// normalOrigin returns an origin as scheme://host[:port] in lower case, or
// an error saying what a valid one looks like.
func normalOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], for example https://app.example.com", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Loopback reports whether addr, a host or host:port (a listen address,
// say), is a loopback address or localhost.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.Trim(addr, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
