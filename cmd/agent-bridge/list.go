package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func listCommand() command {
	return command{
		name: "list", summary: "list conversations", usage: "[--json]",
		help:  "Lists every stored conversation, oldest first: roles, expiry, message counts and each session's status.",
		flags: jsonFlag("print JSON for scripts"),
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\n", ov.Conversation.ID, termtext.Safe(ov.Conversation.RoleA), termtext.Safe(ov.Conversation.RoleB),
					exp, ov.Messages, ov.States[0].Status, ov.States[1].Status, activeMembers(ov))
			}
			return tw.Flush()
		}),
	}
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
