package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
	"github.com/mark3labs/mcp-go/server"
)

func serveCommand() command {
	return command{
		name: "serve", summary: "serve the MCP tools over stdio (the default) or HTTP", usage: "[--db PATH | PATH] [--http ADDR] [flags]",
		help: `Speaks MCP over stdin and stdout; an MCP client (Claude Code, Codex, ...) launches it. Every
agent on the machine should use the same database so they can reach each other: the
default path is shared by all folders. The database and its key file are created on
first use, readable by their owner only. Logs go to stderr; stdout carries only MCP frames.

Tools: create_conversation, send_to_partner, check_messages (which can wait for a
message), update_my_status, check_partner_status, extend_conversation; each session's
inbox is also a resource clients can subscribe to. Rate limits count every tool call of
a session, across all processes sharing the database.

Command execution (YOLO mode) is off unless the environment has YOLO_MODE=1; then
enable_yolo_mode and execute_command are offered too, and each enablement needs a
person's typed consent with agent-bridge approve on a terminal.
--yolo-policy adds allow and deny patterns. Read YOLO_MODE.md before turning it on.

With --http ADDR it serves the same tools over MCP Streamable HTTP at http://ADDR/mcp
instead, for agents on other machines; several such nodes may share one store. ADDR is
host:port, :port or a port; without a host it binds 127.0.0.1 (loopback only). Use
0.0.0.0:PORT to listen on every interface, and then also --tls-cert/--tls-key and
--http-token-file: a node reachable beyond loopback without them logs a warning.
  - Every request must send "Authorization: Bearer <secret>" when --http-token-file is
    given (the file must be mode 0600 on Unix); otherwise it gets 401. Session tokens
    still authorise each tool call. A client that answers the 401 with OAuth (Claude
    Code does) is told by the discovery and registration answers to add the header.
  - A browser request whose Origin is not a loopback origin (on a loopback listener) or
    one given with --http-allow-origin gets 403; on a loopback listener a Host that is
    not a loopback name gets 403 (DNS rebinding).
  - A body larger than --http-max-body gets 413.
  - Headers must arrive within 10s and a body within 30s; calls may run as long as they
    need (check_messages waits up to 10 minutes).
  - On SIGINT or SIGTERM the node stops accepting connections, ends waiting
    check_messages calls at once (nothing is marked read) and gives other calls
    --http-grace to finish.
It logs one line with its URL on stderr; the bearer secret is never logged.

  agent-bridge serve --http :8765 --db bridge.db
  agent-bridge serve --http 0.0.0.0:8765 --db postgres://... --key-file bridge.key \
      --tls-cert node.crt --tls-key node.key --http-token-file http.token`,
		flags: serveFlags,
		run:   serve,
	}
}

// serveFlags are serve's flags: the database, the limits, logging, YOLO
// mode's policy and the HTTP front.
func serveFlags(fs *flag.FlagSet, o *options) {
	d := bridge.DefaultConfig()
	dbFlags(fs, o)
	fs.DurationVar(&o.ttl, "ttl", d.TTL, "how long a conversation lasts after it is created")
	fs.DurationVar(&o.aliveWindow, "alive-window", d.AliveWindow, "a partner whose heartbeat is younger than this is alive")
	fs.DurationVar(&o.reassignAfter, "reassign-after", bridge.DefaultReassignAfter, "a task whose assignee made no call for this long reopens (in conversations that set no threshold of their own)")
	fs.IntVar(&o.perMinute, "rate-per-minute", d.SessionLimits[0].Max, "tool calls per session per minute (0 = no limit)")
	fs.IntVar(&o.perHour, "rate-per-hour", d.SessionLimits[1].Max, "tool calls per session per hour (0 = no limit)")
	fs.IntVar(&o.perDay, "rate-per-day", d.SessionLimits[2].Max, "tool calls per session per day (0 = no limit)")
	fs.IntVar(&o.create, "creates-per-hour", d.CreatorLimits[0].Max, "conversations one agent (a stdio server, or an HTTP client's host) may create per hour; all agents together may create 20 times as many (0 = no limit)")
	fs.IntVar(&o.maxMessage, "max-message", d.MaxMessageChars, "characters per message")
	fs.BoolVar(&o.requireInvites, "require-invites", false, "refuse create_conversation's original shape (both tokens to the creator): partners join only by invite code (always on for an --http node reachable beyond loopback)")
	fs.StringVar(&o.redactRules, "redact-rules", "", "`file` of extra redaction rules and allowlist entries")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level on stderr: debug, info, warn or error")
	fs.BoolVar(&o.initKey, "init-key", false, "serve even though the key file did not write this database's audit trail (a new key for an existing database: every existing token stops working)")
	fs.StringVar(&o.yoloPolicy, "yolo-policy", "", "YOLO mode: `file` of 'allow PATTERN' and 'deny PATTERN' lines for the restricted and yolo modes (see YOLO_MODE.md)")
	defineHTTPFlags(fs, &o.http)
}

func serve(ctx context.Context, e env, args []string) error {
	o, pos, err := parse(e, "serve", args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 1:
		return usagef("serve takes at most one database path; got %q", pos)
	case len(pos) == 1 && o.db != "" && o.db != pos[0]:
		return usagef("database given twice: --db %s and %s", o.db, pos[0])
	case len(pos) == 1:
		o.db = pos[0]
	}
	log, err := newLogger(e.stderr, o.logLevel)
	if err != nil {
		return err
	}
	if err := o.http.check(); err != nil {
		return err
	}
	if isTerminal(e.stdin) && o.http.addr == "" {
		fmt.Fprintln(e.stderr, "agent-bridge: serving MCP on stdin/stdout; an MCP client is meant to launch this. Run 'agent-bridge help' for the commands, Ctrl-D to stop.")
	}
	deps, err := openForServe(ctx, o, e.getenv, log)
	if err != nil {
		return err
	}
	defer deps.Close()
	if o.http.addr != "" {
		return serveHTTP(ctx, o.http, deps, log)
	}
	log.Info("serving", "db", deps.db.Path(), "version", buildVersion())
	srv := newMCPServer(deps, log)
	if err := mcpserver.Serve(ctx, srv, e.stdin, e.stdout, log); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newMCPServer is the MCP server both transports serve. It declares the
// logging capability so that clients may call logging/setLevel (the
// conformance suite does); the bridge sends no log notifications: its logs
// go to stderr.
func newMCPServer(deps bridgeDeps, log *slog.Logger) *server.MCPServer {
	return mcpserver.New(deps.svc, buildVersion(), log, server.WithLogging())
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usagef("--log-level must be debug, info, warn or error; got %q", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (o *options) config() (bridge.Config, error) {
	cfg := bridge.DefaultConfig()
	for _, c := range []struct {
		name string
		v    int
	}{{"rate-per-minute", o.perMinute}, {"rate-per-hour", o.perHour}, {"rate-per-day", o.perDay}, {"creates-per-hour", o.create}} {
		if c.v < 0 {
			return cfg, usagef("--%s must be 0 (no limit) or more; got %d", c.name, c.v)
		}
	}
	if o.ttl <= 0 {
		return cfg, usagef("--ttl must be positive; got %s", o.ttl)
	}
	if o.aliveWindow <= 0 {
		return cfg, usagef("--alive-window must be positive; got %s", o.aliveWindow)
	}
	if o.maxMessage < 1 {
		return cfg, usagef("--max-message must be at least 1; got %d", o.maxMessage)
	}
	if o.reassignAfter <= 0 {
		return cfg, usagef("--reassign-after must be positive; got %s", o.reassignAfter)
	}
	cfg.TTL, cfg.AliveWindow, cfg.MaxMessageChars, cfg.ReassignAfter = o.ttl, o.aliveWindow, o.maxMessage, o.reassignAfter
	// A node reachable beyond this machine never hands a creator its
	// partner's token: partners join by invite there.
	cfg.RequireInvites = o.requireInvites || (o.http.addr != "" && !mcpserver.Loopback(o.http.resolvedListenAt))
	cfg.SessionLimits = []limit.Window{
		{Max: o.perMinute, Period: time.Minute},
		{Max: o.perHour, Period: time.Hour},
		{Max: o.perDay, Period: 24 * time.Hour},
	}
	// Per origin, under a ceiling for everyone together well above it.
	cfg.CreatorLimits = []limit.Window{{Max: o.create, Period: time.Hour}}
	cfg.CreateLimits = []limit.Window{{Max: 20 * o.create, Period: time.Hour}}
	return cfg, nil
}
