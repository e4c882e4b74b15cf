package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
)

// adminRun opens the existing database for a management command.
func adminRun(name string, minPos, maxPos int, fn adminFunc) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		o, pos, err := parse(e, name, args)
		if err != nil {
			return err
		}
		if len(pos) < minPos || len(pos) > maxPos {
			c, _ := findCommand(name)
			return usagef("usage: agent-bridge %s %s", name, c.usage)
		}
		log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		deps, err := openExisting(ctx, o, e.getenv, log)
		if err != nil {
			return err
		}
		defer deps.Close()
		return fn(ctx, e, o, deps.svc, pos)
	}
}

// messageJSON is a message as the CLI prints it.
type messageJSON struct {
	ID         int64    `json:"id"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	ReplyTo    int64    `json:"reply_to,omitempty"`
	ActionType string   `json:"action_type"`
	Message    string   `json:"message"`
	Files      []string `json:"files_involved"`
	CreatedAt  string   `json:"created_at"`
	ReadAt     string   `json:"read_at,omitempty"`
}

func messageJSONOf(m bridge.Message) messageJSON {
	files := m.Files
	if files == nil {
		files = []string{}
	}
	to := string(m.To)
	if m.To == bridge.Broadcast {
		to = "all"
	}
	return messageJSON{m.ID, string(m.From), to, m.ReplyTo, m.ActionType, m.Body, files, bridge.FormatTime(m.CreatedAt), bridge.FormatTime(m.ReadAt)}
}

// printJSONLine prints v as one line of JSON (for streams).
func printJSONLine(e env, v any) error {
	return json.NewEncoder(e.stdout).Encode(v)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// adminFunc is a management command's work on an open database.
type adminFunc = func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error

// conversationArg wraps a command whose positional argument is a
// conversation id: a malformed id is refused before the database is
// touched, and "not found" is said to a person at a terminal, with where
// to look, rather than in the words meant for an agent.
func conversationArg(fn adminFunc) adminFunc {
	return func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
		if len(pos) == 0 {
			return fn(ctx, e, o, svc, pos)
		}
		if !bridge.ValidConversationID(pos[0]) {
			return usagef("%q is not a conversation id (conv_ followed by 16 hex digits); 'agent-bridge list' shows the conversations", pos[0])
		}
		err := fn(ctx, e, o, svc, pos)
		if bridge.KindOf(err) == bridge.ENotFound {
			where := "this database"
			if path, perr := o.dbPath(e.getenv); perr == nil {
				where = postgres.Redact(path)
			}
			return fmt.Errorf("no conversation %s in %s. 'agent-bridge list' shows the conversations there; an expired one may have been removed by 'agent-bridge cleanup'", pos[0], where)
		}
		return err
	}
}
