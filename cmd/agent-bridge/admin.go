package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// adminRun opens the existing database for a management command.
func adminRun(name string, minPos, maxPos int, fn func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error) func(context.Context, env, []string) error {
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

type stateJSON struct {
	Status        string `json:"status"`
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
	Unread        int    `json:"unread"`
}

type overviewJSON struct {
	ID        string               `json:"conversation_id"`
	RoleA     string               `json:"role_a"`
	RoleB     string               `json:"role_b"`
	CreatedAt string               `json:"created_at"`
	ExpiresAt string               `json:"expires_at"`
	Expired   bool                 `json:"expired"`
	Messages  int                  `json:"messages"`
	Sessions  map[string]stateJSON `json:"sessions"`
	Members   []memberJSON         `json:"members"`
}

// memberJSON is one member of a conversation, left ones included.
type memberJSON struct {
	ID            string `json:"member_id"`
	Role          string `json:"role"`
	Status        string `json:"status"`
	LastHeartbeat string `json:"last_heartbeat,omitempty"`
	Unread        int    `json:"unread"`
	LeftAt        string `json:"left_at,omitempty"`
}

func toOverviewJSON(o bridge.Overview) overviewJSON {
	c := o.Conversation
	out := overviewJSON{
		ID: c.ID, RoleA: c.RoleA, RoleB: c.RoleB, CreatedAt: bridge.FormatTime(c.CreatedAt),
		ExpiresAt: bridge.FormatTime(c.ExpiresAt), Expired: o.Expired, Messages: o.Messages,
		Sessions: map[string]stateJSON{},
	}
	for i, st := range o.States {
		out.Sessions[string(st.Session)] = stateJSON{Status: st.Status, LastHeartbeat: bridge.FormatTime(st.Heartbeat), Unread: o.Unread[i]}
	}
	out.Members = []memberJSON{}
	for _, m := range o.Members {
		out.Members = append(out.Members, memberJSON{string(m.Member), m.Role, m.Status, bridge.FormatTime(m.Heartbeat), m.Unread, bridge.FormatTime(m.LeftAt)})
	}
	return out
}

// activeMembers counts the members that have not left.
func activeMembers(o bridge.Overview) int {
	n := 0
	for _, m := range o.Members {
		if m.Active() {
			n++
		}
	}
	return n
}

func listCommand() command {
	return command{
		name: "list", summary: "list conversations", usage: "[--json]",
		help: "Lists every stored conversation, oldest first: roles, expiry, message counts and each session's status.",
		run: adminRun("list", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			all, err := svc.List(ctx)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]overviewJSON, len(all))
				for i, ov := range all {
					out[i] = toOverviewJSON(ov)
				}
				return printJSON(e.stdout, out)
			}
			if len(all) == 0 {
				fmt.Fprintln(e.stdout, "no conversations")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CONVERSATION\tROLE A\tROLE B\tEXPIRES\tMESSAGES\tSTATUS A\tSTATUS B\tMEMBERS")
			for _, ov := range all {
				exp := bridge.FormatTime(ov.Conversation.ExpiresAt)
				if ov.Expired {
					exp += " (expired)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\n", ov.Conversation.ID, ov.Conversation.RoleA, ov.Conversation.RoleB,
					exp, ov.Messages, ov.States[0].Status, ov.States[1].Status, activeMembers(ov))
			}
			return tw.Flush()
		}),
	}
}

func showCommand() command {
	return command{
		name: "show", summary: "show a conversation with its statuses and messages", usage: "ID [--json]",
		help: "Shows one conversation: roles, expiry, both sessions' statuses and every message as stored (redacted). It marks nothing read.",
		run: adminRun("show", 1, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			d, err := svc.Show(ctx, pos[0])
			if err != nil {
				return err
			}
			msgs := make([]messageJSON, len(d.All))
			for i, m := range d.All {
				msgs[i] = messageJSONOf(m)
			}
			if o.json {
				return printJSON(e.stdout, struct {
					overviewJSON
					All []messageJSON `json:"message_log"`
				}{toOverviewJSON(d.Overview), msgs})
			}
			c := d.Conversation
			fmt.Fprintf(e.stdout, "%s  a: %s  b: %s\ncreated %s, expires %s", c.ID, c.RoleA, c.RoleB, bridge.FormatTime(c.CreatedAt), bridge.FormatTime(c.ExpiresAt))
			if d.Expired {
				fmt.Fprint(e.stdout, " (expired)")
			}
			fmt.Fprintln(e.stdout)
			for _, m := range d.Members {
				hb := "never"
				if !m.Heartbeat.IsZero() {
					hb = bridge.FormatTime(m.Heartbeat)
				}
				left := ""
				if !m.Active() {
					left = ", left " + bridge.FormatTime(m.LeftAt)
				}
				fmt.Fprintf(e.stdout, "member %s (%s): %s, last heartbeat %s, %d unread%s\n", m.Member, m.Role, m.Status, hb, m.Unread, left)
			}
			for _, m := range msgs {
				read := "unread"
				if m.ReadAt != "" {
					read = "read " + m.ReadAt
				}
				fmt.Fprintf(e.stdout, "\n#%d %s -> %s  %s  %s  (%s)\n", m.ID, m.From, m.To, m.ActionType, m.CreatedAt, read)
				if len(m.Files) > 0 {
					fmt.Fprintf(e.stdout, "files: %q\n", m.Files)
				}
				fmt.Fprintln(e.stdout, m.Message)
			}
			return nil
		}),
	}
}

func tokensCommand() command {
	return command{
		name: "tokens", summary: "print a conversation's session tokens", usage: "ID [MEMBER] [--json]",
		help: `Recomputes the tokens of sessions a and b of a conversation from the key file (tokens
are never stored) and prints them, for a person reconnecting an agent; with MEMBER, only
that member's token (any member, joined by invite or not). Tokens are secrets: the
disclosure is recorded in the audit trail and a warning goes to stderr.`,
		run: adminRun("tokens", 1, 2, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			if len(pos) == 2 {
				tok, err := svc.MemberToken(ctx, pos[0], bridge.Member(pos[1]))
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stderr, "warning: this token lets anyone who sees it act as that member; do not paste it into shared places.")
				if o.json {
					return printJSON(e.stdout, map[string]string{"conversation_id": pos[0], "member_id": pos[1], "token": tok})
				}
				fmt.Fprintf(e.stdout, "conversation_id: %s\nmember %s token: %s\n", pos[0], pos[1], tok)
				return nil
			}
			a, b, err := svc.Tokens(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stderr, "warning: these tokens let anyone who sees them act as the sessions of this conversation; do not paste them into shared places.")
			if o.json {
				return printJSON(e.stdout, map[string]string{"conversation_id": pos[0], "session_a_token": a, "session_b_token": b})
			}
			fmt.Fprintf(e.stdout, "conversation_id: %s\nsession a token: %s\nsession b token: %s\n", pos[0], a, b)
			return nil
		}),
	}
}

func auditCommand() command {
	return command{
		name: "audit", summary: "show or verify the audit trail", usage: "[ID] [-n N] [--verify] [--json]",
		help: `Shows the last N audit rows (of one conversation when ID is given): every tool call,
accepted or refused, with its time, tool, session, outcome and error kind. Rows never
hold message text, tokens or secrets.

With --verify it checks the whole hash chain instead (each row's keyed digest covers its
content and the previous row's digest) and reports every edited, deleted or reordered
row; it exits with status 1 when the chain is broken. The head digest it prints can be
kept elsewhere: a later run whose chain no longer reaches it shows that rows were cut
from the end.`,
		run: adminRun("audit", 0, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			if o.verify {
				if len(pos) > 0 {
					return usagef("audit --verify checks the whole chain; it takes no conversation id")
				}
				r, err := svc.VerifyAudit(ctx)
				if err != nil {
					return err
				}
				if o.json {
					problems := make([]map[string]any, len(r.Problems))
					for i, p := range r.Problems {
						problems[i] = map[string]any{"seq": p.Seq, "reason": p.Reason}
					}
					if err := printJSON(e.stdout, map[string]any{"ok": r.OK(), "checked": r.Checked, "head_seq": r.HeadSeq, "head_digest": r.Head, "problems": problems}); err != nil {
						return err
					}
				} else {
					for _, p := range r.Problems {
						fmt.Fprintln(e.stdout, p)
					}
					state := "intact"
					if !r.OK() {
						state = fmt.Sprintf("BROKEN (%d problems)", len(r.Problems))
					}
					fmt.Fprintf(e.stdout, "audit chain %s: %d rows checked, head row %d digest %s\n", state, r.Checked, r.HeadSeq, r.Head)
				}
				if !r.OK() {
					return fmt.Errorf("audit chain broken: %d problems", len(r.Problems))
				}
				return nil
			}
			if o.n < 0 {
				return usagef("-n must be 0 (all) or more; got %d", o.n)
			}
			f := bridge.AuditFilter{Limit: o.n}
			if len(pos) == 1 {
				if !bridge.ValidConversationID(pos[0]) {
					return usagef("%q is not a conversation id (conv_ followed by 16 hex digits)", pos[0])
				}
				f.ConversationID = pos[0]
			}
			rows, err := svc.Audit(ctx, f)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]map[string]any, len(rows))
				for i, r := range rows {
					out[i] = map[string]any{
						"seq": r.Seq, "at": bridge.FormatTime(r.At), "tool": r.Tool, "conversation_id": r.ConversationID,
						"session": r.Session, "outcome": r.Outcome, "error_kind": string(r.ErrorKind), "detail": r.Detail,
						"prev_digest": r.PrevDigest, "digest": r.Digest,
					}
				}
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tTOOL\tCONVERSATION\tSESSION\tOUTCOME\tDETAIL")
			for _, r := range rows {
				outcome := r.Outcome
				if r.ErrorKind != "" {
					outcome += " (" + string(r.ErrorKind) + ")"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.At.Format(time.DateTime), r.Tool, dash(r.ConversationID), dash(r.Session), outcome, truncate(r.Detail, 100))
			}
			return tw.Flush()
		}),
	}
}

func cleanupCommand() command {
	return command{
		name: "cleanup", summary: "remove expired conversations", usage: "[--json]",
		help: "Removes expired conversations with their messages and statuses and reports the counts. Audit rows are kept.",
		run: adminRun("cleanup", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			c, err := svc.Cleanup(ctx)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(e.stdout, map[string]int{"conversations": c.Conversations, "messages": c.Messages, "statuses": c.Statuses})
			}
			fmt.Fprintf(e.stdout, "removed %d expired conversations, %d messages, %d statuses; audit rows kept\n", c.Conversations, c.Messages, c.Statuses)
			return nil
		}),
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
