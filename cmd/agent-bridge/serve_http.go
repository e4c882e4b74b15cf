package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
)

// httpOptions are serve's flags for the Streamable HTTP front.
type httpOptions struct {
	addr             string
	tlsCert, tlsKey  string
	allowOrigins     stringList
	maxBody          int64
	tokenFile        string
	grace            time.Duration
	resolvedListenAt string // addr with the default host applied
}

// defaultHTTPHost is what --http binds when the address names no host:
// loopback, so nothing is exposed to the network unless asked for.
const defaultHTTPHost = "127.0.0.1"

func defineHTTPFlags(fs *flag.FlagSet, o *httpOptions) {
	fs.StringVar(&o.addr, "http", "", "serve MCP over Streamable HTTP at `ADDR` (host:port, :port or port; no host means "+defaultHTTPHost+") instead of stdio")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "with --http: TLS certificate `file` (PEM); needs --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "with --http: TLS private key `file` (PEM); needs --tls-cert")
	fs.Var(&o.allowOrigins, "http-allow-origin", "with --http: also allow browser requests from this `origin` (scheme://host[:port]; repeat or comma-separate)")
	fs.Int64Var(&o.maxBody, "http-max-body", mcpserver.DefaultMaxBody, "with --http: largest request body in `bytes`")
	fs.StringVar(&o.tokenFile, "http-token-file", "", "with --http: `file` (mode 0600) holding a secret every request must send as Authorization: Bearer <secret>")
	fs.DurationVar(&o.grace, "http-grace", 10*time.Second, "with --http: on SIGINT/SIGTERM, how long calls in flight may finish (waiting check_messages calls end at once)")
}

// stringList is a repeatable flag whose values may also be comma-separated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// check validates the HTTP flags before anything is opened.
func (o *httpOptions) check() error {
	if o.addr == "" {
		switch {
		case o.tlsCert != "" || o.tlsKey != "":
			return usagef("--tls-cert and --tls-key need --http ADDR")
		case o.tokenFile != "":
			return usagef("--http-token-file needs --http ADDR")
		case len(o.allowOrigins) > 0:
			return usagef("--http-allow-origin needs --http ADDR")
		}
		return nil
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together: give both files (certificate and private key) or neither")
	}
	if o.maxBody < 1024 {
		return usagef("--http-max-body must be at least 1024 bytes; got %d", o.maxBody)
	}
	if o.grace < 0 {
		return usagef("--http-grace must be 0 or more; got %s", o.grace)
	}
	addr, err := listenAddr(o.addr)
	if err != nil {
		return err
	}
	o.resolvedListenAt = addr
	return nil
}

// listenAddr applies the default host: "8765" and ":8765" bind
// 127.0.0.1:8765; "0.0.0.0:8765" binds every interface.
func listenAddr(a string) (string, error) {
	if _, err := strconv.ParseUint(a, 10, 16); err == nil {
		return net.JoinHostPort(defaultHTTPHost, a), nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", usagef("--http %q: want host:port, :port or a port number, for example 127.0.0.1:8765", a)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", usagef("--http %q: the port must be a number from 0 to 65535", a)
	}
	if host == "" {
		host = defaultHTTPHost
	}
	return net.JoinHostPort(host, port), nil
}

// readTokenFile reads the bearer secret, refusing a file others can read.
// Errors name the file, never its content.
func readTokenFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--http-token-file: %w", err)
	}
	if !ownerOnly(fi) {
		return nil, fmt.Errorf("--http-token-file %s has mode %04o: the secret must be readable by its owner only; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--http-token-file: %w", err)
	}
	tok := []byte(strings.TrimSpace(string(b)))
	switch {
	case len(tok) < 16:
		return nil, fmt.Errorf("--http-token-file %s holds %d characters; use a secret of at least 16, for example: openssl rand -hex 32 > %s", path, len(tok), path)
	case strings.ContainsAny(string(tok), " \t\r\n"):
		return nil, fmt.Errorf("--http-token-file %s: the secret must be one line without spaces", path)
	}
	return tok, nil
}

// serveHTTP serves the tools over Streamable HTTP until ctx is done.
func serveHTTP(ctx context.Context, o httpOptions, deps bridgeDeps, log *slog.Logger) error {
	cfg := mcpserver.HTTPConfig{AllowOrigins: o.allowOrigins, MaxBody: o.maxBody, Grace: o.grace,
		SessionKey: deps.svc.Subkey("http session ids"), SessionEnds: deps.svc}
	if deps.metrics != nil {
		cfg.Metrics = deps.metrics.Handler()
	}
	if o.tokenFile != "" {
		tok, err := readTokenFile(o.tokenFile)
		if err != nil {
			return err
		}
		cfg.Token = tok
	}
	if o.grace == 0 {
		cfg.Grace = time.Nanosecond // close at once
	}
	front, err := mcpserver.NewHTTP(newMCPServer(deps, log), cfg, log)
	if err != nil {
		return usagef("--http-allow-origin: %v", err)
	}
	if o.tlsCert != "" {
		// Fail before listening, with the files named.
		if _, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey); err != nil {
			return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", o.tlsCert, o.tlsKey, err)
		}
	}
	ln, err := net.Listen("tcp", o.resolvedListenAt)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	secure := o.tlsCert != ""
	if !mcpserver.Loopback(o.resolvedListenAt) {
		if cfg.Token == nil {
			log.Warn("serving beyond this machine without --http-token-file: anyone who can reach the address can create conversations and call tools")
		}
		if !secure {
			log.Warn("serving beyond this machine without TLS: session tokens and messages cross the network in clear text; pass --tls-cert and --tls-key")
		}
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	log.Info("serving MCP over HTTP", "url", scheme+"://"+ln.Addr().String()+mcpserver.EndpointPath,
		"db", deps.db.Path(), "bearer", cfg.Token != nil, "version", buildVersion())
	if err := front.Serve(ctx, ln, o.tlsCert, o.tlsKey); err != nil {
		return fmt.Errorf("serve --http: %w", err)
	}
	log.Info("stopped serving HTTP")
	return nil
}
