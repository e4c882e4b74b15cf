package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func hookCommand() command {
	return command{
		name: "hook", summary: "Claude Code hook: tell the agent about messages waiting for it", usage: "[--wait DURATION] [--conversation ID --session MEMBER]",
		help: `A Claude Code hook command. It reads the hook's JSON from stdin and, when messages
from other members wait for this project's agent, answers so that Claude Code tells the agent:

  UserPromptSubmit, SessionStart, PostToolUse: adds a note to the agent's context.
  Stop, SubagentStop: blocks the stop with a reason, so the agent goes on and reads
  them; with --wait it first waits up to that long for a message, so an agent that
  finished its turn waits for the others instead of going idle.

It finds the agent's conversations by the project directory ($CLAUDE_PROJECT_DIR, else
the hook's cwd): agent-bridge serve records where each session's agent runs. Pass
--conversation and --session to pin one. It prints nothing when there is nothing to
say, and never blocks the agent because of its own failure (it exits 0 and logs to
stderr). In settings.json:

  "hooks": {
    "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "agent-bridge hook"}]}],
    "PostToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "agent-bridge hook"}]}],
    "Stop": [{"hooks": [{"type": "command", "command": "agent-bridge hook --wait 10m", "timeout": 660}]}]
  }`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.StringVar(&o.conversation, "conversation", "", "only this conversation `ID` (default: every conversation this project's agent joined)")
			fs.StringVar(&o.session, "session", "", "with --conversation: the agent's member `id` (a, b, or the id join_conversation gave)")
			fs.DurationVar(&o.wait, "wait", 0, "on Stop: wait up to this long for a message before letting the agent stop (0 = do not wait)")
		},
		run: runHook,
	}
}

// hookInput is the part of Claude Code's hook JSON the bridge reads. A
// Stop hook that already blocked once (stop_hook_active) may block again:
// each block has the agent read its messages, so it cannot loop on the
// same ones.
type hookInput struct {
	Event string `json:"hook_event_name"`
	Cwd   string `json:"cwd"`
}

func runHook(ctx context.Context, e env, args []string) error {
	o, pos, err := parse(e, "hook", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("hook takes no arguments; it reads the hook JSON from stdin")
	}
	if (o.conversation == "") != (o.session == "") {
		return usagef("hook: pass --conversation and --session together")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var in hookInput
	if err := json.NewDecoder(io.LimitReader(e.stdin, 1<<20)).Decode(&in); err != nil {
		return fmt.Errorf("hook: read the hook JSON on stdin: %w", err)
	}
	q := bridge.PendingQuery{ConversationID: o.conversation, Session: bridge.Session(o.session), Workdir: e.getenv("CLAUDE_PROJECT_DIR")}
	if q.Workdir == "" {
		q.Workdir = in.Cwd
	}
	if q.ConversationID == "" && q.Workdir == "" {
		return nil // nothing identifies the agent
	}
	path, err := o.dbPath(e.getenv)
	if err != nil {
		return err
	}
	if neverUsed(path) {
		return nil // the bridge was never used here
	}
	deps, err := openExisting(ctx, o, e.getenv, log)
	if err != nil {
		log.Warn("agent-bridge hook: cannot open the bridge", "err", err)
		return nil
	}
	defer deps.Close()

	var pending []bridge.Pending
	stop := in.Event == "Stop" || in.Event == "SubagentStop"
	pending, err = deps.svc.Pending(ctx, q)
	if err == nil && stop && o.wait > 0 && pendingNote(pending) == "" {
		// Said once nothing was found, so a person (or a test) sees why
		// the hook has not returned; Claude Code keeps a hook's stderr
		// out of the conversation.
		fmt.Fprintf(e.stderr, "agent-bridge hook: waiting up to %s for a message\n", o.wait)
		pending, err = deps.svc.WaitPending(ctx, q, o.wait)
	}
	if err != nil {
		log.Warn("agent-bridge hook", "err", err)
		return nil
	}
	note := pendingNote(pending)
	if note == "" {
		return nil
	}
	switch {
	case stop:
		return printJSONLine(e, map[string]any{"decision": "block", "reason": note})
	case in.Event == "UserPromptSubmit" || in.Event == "SessionStart" || in.Event == "PostToolUse":
		return printJSONLine(e, map[string]any{"hookSpecificOutput": map[string]any{
			"hookEventName": in.Event, "additionalContext": note,
		}})
	}
	return nil
}

// pendingNote tells the agent which conversations have messages for it and
// how to read them; "" when none has.
func pendingNote(ps []bridge.Pending) string {
	var parts []string
	for _, p := range ps {
		if p.Unread == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d unread message(s) in conversation %s, where you are member %s (%s)",
			p.Unread, p.Conversation.ID, p.Session, termtext.Safe(p.Role)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "agent-bridge: " + strings.Join(parts, "; ") +
		". Call the agent-bridge check_messages tool with that conversation_id, your session_id and your token to read them."
}
