package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
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
    given (the file must be mode 0600); otherwise it gets 401. Session tokens still
    authorise each tool call.
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
		run: serve,
	}
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
	log.Info("serving", "db", deps.db.Path(), "version", version())
	srv := mcpserver.New(deps.svc, version(), log)
	if err := mcpserver.Serve(ctx, srv, e.stdin, e.stdout, log); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
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
