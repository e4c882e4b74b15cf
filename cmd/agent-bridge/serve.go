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
		name: "serve", summary: "serve the MCP tools over stdio (the default)", usage: "[--db PATH | PATH] [flags]",
		help: `Speaks MCP over stdin and stdout; an MCP client (Claude Code, Codex, ...) launches it. Every
agent on the machine should use the same database so they can reach each other: the
default path is shared by all folders. The database and its key file are created on
first use, readable by their owner only. Logs go to stderr; stdout carries only MCP frames.

Tools: create_conversation, send_to_partner, check_messages (which can wait for a
message), update_my_status, check_partner_status, extend_conversation; each session's
inbox is also a resource clients can subscribe to. Rate limits count every tool call of
a session, across all processes sharing the database.`,
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
