package main

import (
	"context"
	"fmt"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
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
			fmt.Fprintf(e.stdout, "%s  a: %s  b: %s\ncreated %s, expires %s", c.ID, c.RoleA, c.RoleB, bridge.FormatTime(c.CreatedAt), bridge.FormatTime(c.ExpiresAt))
			if d.Expired {
				fmt.Fprint(e.stdout, " (expired)")
			}
			fmt.Fprintln(e.stdout)
			for i, st := range d.States {
				hb := "never"
				if !st.Heartbeat.IsZero() {
					hb = bridge.FormatTime(st.Heartbeat)
				}
				fmt.Fprintf(e.stdout, "session %s: %s, last heartbeat %s, %d unread\n", st.Session, st.Status, hb, d.Unread[i])
			}
			for _, m := range msgs {
				read := "unread"
				if m.ReadAt != "" {
					read = "read " + m.ReadAt
				}
				fmt.Fprintf(e.stdout, "\n#%d %s -> %s  %s  %s  (%s)\n", m.ID, m.From, bridge.Session(m.From).Partner(), m.ActionType, m.CreatedAt, read)
				if len(m.Files) > 0 {
					fmt.Fprintf(e.stdout, "files: %q\n", m.Files)
				}
				fmt.Fprintln(e.stdout, m.Message)
			}
			return nil
		})),
	}
}
