package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/console"
	"github.com/agent-bridge/agent-bridge/internal/metrics"
	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// consoleOptions are the console's flags.
type consoleOptions struct {
	listen          string
	tlsCert, tlsKey string
	hosts           stringList
	silentAfter     time.Duration
}

func defineConsoleFlags(fs *flag.FlagSet, o *consoleOptions) {
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "serve the console at `ADDR` (host:port; port 0 picks a free one); beyond loopback it needs --tls-cert and --tls-key")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM); needs --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key `file` (PEM); needs --tls-cert")
	fs.Var(&o.hosts, "host", "beyond loopback: the host `name` browsers use to reach the console (repeat or comma-separate; default this machine's name)")
	fs.DurationVar(&o.silentAfter, "silent-after", 5*time.Minute, "a member that made no call for this long is shown as silent")
}

func consoleCommand() command {
	return command{
		name: "console", summary: "a live web console for the person running the agents", usage: "[--db PATH] [--listen 127.0.0.1:0] [flags]",
		help: `Serves a web console on this machine: every live conversation with its members, statuses,
unread counts and expiry; each conversation's messages (as stored, redacted) with read
receipts and a search box; the consent queue for command execution, where you approve a
request by typing its phrase and a one-time code shown on the page, as agent-bridge approve
asks on a terminal; and the audit trail with a button that verifies its hash chain. Pages
update live (Server-Sent Events) and work without JavaScript. You can also post a notice
into a conversation: agents receive it from the bridge, marked as written by the person
running them, never as if a member wrote it. Prometheus metrics are at /metrics.

On start it prints a login link with a one-time secret on stderr, which must be a terminal
(an agent's commands write to pipes, so an agent cannot start a console and approve its
own requests; like approve, this does not hold against an agent that drives a
pseudo-terminal as your user). Open the link in your browser:
the secret is spent, the page keeps a session cookie (HttpOnly, SameSite=Strict) and the
address bar shows a clean URL. A used link is refused; start the console again for a new
one. Every form carries a per-session token; requests from other sites, and requests
whose Host is not a loopback name (DNS rebinding), are refused.

It listens on 127.0.0.1 with a free port unless --listen says otherwise. A listener beyond
loopback needs --tls-cert and --tls-key (and --host with the name browsers use): the
console shows message text and approves commands, so it is never served in clear text
over a network. Agents cannot reach the console through their MCP client, which is why
consent given here counts as a person's.

  agent-bridge console
  agent-bridge console --db postgres://... --key-file bridge.key
  agent-bridge console --listen 0.0.0.0:8443 --host bridge.example.com --tls-cert c.pem --tls-key k.pem`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			defineConsoleFlags(fs, &o.console)
		},
		run: runConsole,
	}
}

func runConsole(ctx context.Context, e env, args []string) error {
	o, pos, err := parse(e, "console", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("console takes no arguments; got %q (the database is --db PATH)", pos)
	}
	co := o.console
	if (co.tlsCert == "") != (co.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together: give both files (certificate and private key) or neither")
	}
	addr, err := consoleAddr(co.listen)
	if err != nil {
		return err
	}
	loopback := console.Loopback(addr)
	if !loopback && co.tlsCert == "" {
		return usagef("--listen %s is reachable beyond this machine: the console shows messages and approves commands, so it needs TLS there. Pass --tls-cert and --tls-key, or listen on 127.0.0.1", co.listen)
	}
	if co.silentAfter <= 0 {
		return usagef("--silent-after must be positive; got %s", co.silentAfter)
	}
	if co.tlsCert != "" {
		if _, err := tls.LoadX509KeyPair(co.tlsCert, co.tlsKey); err != nil {
			return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", co.tlsCert, co.tlsKey, err)
		}
	}
	// The login link opens a session that can approve commands, so it goes
	// only to a person's terminal, as approve reads its answers only from
	// one: an agent that runs commands reads their output through pipes.
	if f, ok := e.stderr.(*os.File); !ok || !isTerminal(f) {
		return errors.New("console prints its one-time login link only to a terminal, so that an agent running commands (whose output is a pipe) cannot start a console and approve its own requests. Start it in a terminal")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc, m, db, err := openConsole(ctx, o, e.getenv, log)
	if err != nil {
		return err
	}
	defer db.Close()
	defer svc.Close() // first: writes what the journal holds

	hosts := []string(co.hosts)
	if !loopback && len(hosts) == 0 {
		if name, err := os.Hostname(); err == nil {
			hosts = []string{name}
		}
	}
	c, err := console.New(svc, console.Config{TLS: co.tlsCert != "", Hosts: hosts, SilentAfter: co.silentAfter,
		Who: consoleUser(), Metrics: m.Handler(), Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	base := consoleBase(ln.Addr(), co.tlsCert != "", loopback, hosts)
	log.Info("serving the console", "url", base+"/", "db", db.Path(), "version", buildVersion())
	// The login link goes to the person on stderr, never through the logger.
	fmt.Fprintf(e.stderr, "\nOpen the console (this link works once):\n\n    %s%s\n\n", base, console.LoginPath(c.NewLogin()))
	if err := c.Serve(ctx, ln, co.tlsCert, co.tlsKey); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	log.Info("console stopped")
	return nil
}

// consoleAddr applies the default host to --listen: ":8080" and "8080"
// bind 127.0.0.1.
func consoleAddr(a string) (string, error) {
	addr, err := listenAddr(a)
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			return "", usagef("--listen %q: want host:port, :port or a port number, for example 127.0.0.1:8080", a)
		}
		return "", err
	}
	return addr, nil
}

func consoleBase(a net.Addr, secure, loopback bool, hosts []string) string {
	scheme := "http"
	if secure {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(a.String())
	if !loopback && len(hosts) > 0 {
		host = hosts[0]
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// openConsole opens an existing database and key, like the management
// commands, with metrics for /metrics.
func openConsole(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (*bridge.Service, *metrics.Metrics, database, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkExists(path); err != nil {
		return nil, nil, nil, err
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := token.Load(keyPath)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return nil, nil, nil, err
	}
	m := metrics.New()
	cfg := bridge.DefaultConfig()
	cfg.Events = m
	svc := bridge.NewService(m.Store(db), key, redact.Default(), cfg, log)
	if err := svc.CheckKey(ctx); err != nil {
		db.Close()
		if errors.Is(err, bridge.ErrKeyMismatch) {
			return nil, nil, nil, fmt.Errorf("the key file %s did not write the audit trail of %s: pass the --key-file the server uses", keyPath, db.Path())
		}
		return nil, nil, nil, err
	}
	if err := sealLegacy(ctx, svc, log); err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return svc, m, db, nil
}

// consoleUser names the person at the console in the audit trail.
func consoleUser() string {
	name := "unknown user"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "console user " + name
}
