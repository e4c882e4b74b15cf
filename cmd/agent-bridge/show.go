package main

import (
	"context"
	"fmt"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func showCommand() command {
	return command{
		name: "show", summary: "show a conversation with its statuses and messages", usage: "ID [--json]",
		help:  "Shows one conversation: roles, expiry, both sessions' statuses and every message as stored (redacted). It marks nothing read.",
		flags: jsonFlag("print JSON for scripts"),
		run: adminRun("show", 1, 1, conversationArg(func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
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
			fmt.Fprintf(e.stdout, "%s  a: %s  b: %s\ncreated %s, expires %s", c.ID, termtext.Safe(c.RoleA), termtext.Safe(c.RoleB), bridge.FormatTime(c.CreatedAt), bridge.FormatTime(c.ExpiresAt))
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
				fmt.Fprintf(e.stdout, "member %s (%s): %s, last heartbeat %s, %d unread%s\n", m.Member, termtext.Safe(m.Role), m.Status, hb, m.Unread, left)
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
				fmt.Fprintln(e.stdout, termtext.Block(m.Message))
			}
			return nil
		})),
	}
}
