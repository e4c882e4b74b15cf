package mcpserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (h *handlers) updateMyStatus() tool {
	params := append(callerParams(),
		param{name: "status", required: true, enum: bridge.Statuses,
			desc: `"complete" = your whole part is done.`},
	)
	def := mcp.NewTool("update_my_status",
		mcp.WithDescription(`Record what you are doing, so check_partner_status shows it to your team. Call it when your status changes; you need not call it to stay alive (any call refreshes your heartbeat).`),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"session_id":      typ("string"),
			"status":          typ("string"),
			"last_heartbeat":  typ("string"),
			"unread_messages": typ("integer"),
		})),
		annotations("Update my status", false, true),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "update_my_status"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		status := a.String("status")
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		st, err := h.svc.UpdateStatus(ctx, c, status)
		if err != nil {
			return h.fail(name, err), nil
		}
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": c.ConversationID,
			"session_id":      string(st.Session),
			"status":          st.Status,
			"last_heartbeat":  bridge.FormatTime(st.Heartbeat),
			"unread_messages": st.Unread,
		}, fmt.Sprintf("Status of member %s set to %q; heartbeat recorded at %s.", st.Session, st.Status, bridge.FormatTime(st.Heartbeat))+unreadText(st.Unread)), nil
	}}
}

func (h *handlers) checkPartnerStatus() tool {
	params := callerParams()
	alive := h.svc.Config().AliveWindow
	def := mcp.NewTool("check_partner_status",
		mcp.WithDescription(fmt.Sprintf(`See the whole team at a glance: each member's id, role, status ("unknown" if never set), last heartbeat, alive (a call within %s), unread count, and how many of your messages it has not read. `+
			`In a two-member conversation the top-level fields describe your partner. Use it to decide whether to wait for a reply.`, bridge.Human(alive))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id":      typ("string"),
			"member_id":            typ("string"),
			"session_id":           typ("string", "null"),
			"role":                 typ("string", "null"),
			"status":               typ("string"),
			"last_heartbeat":       typ("string", "null"),
			"seconds_since":        typ("number", "null"),
			"alive":                typ("boolean"),
			"your_messages_unread": typ("integer"),
			"last_read_message_id": typ("integer", "null"),
			"last_read_at":         typ("string", "null"),
			"unread_messages":      typ("integer"),
			"members": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"member_id": typ("string"), "role": typ("string"), "status": typ("string"), "last_heartbeat": typ("string", "null"),
				"seconds_since": typ("number", "null"), "alive": typ("boolean"), "unread_messages": typ("integer"),
				"your_messages_unread": typ("integer"), "you": typ("boolean"), "task": typ("object", "null"),
			}}},
		})),
		// Read-only for the caller: it changes nothing other members see.
		annotations("Check team status", true, true),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "check_partner_status"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		p, err := h.svc.PartnerStatus(ctx, c)
		if err != nil {
			return h.fail(name, err), nil
		}
		members := make([]map[string]any, len(p.Team))
		var lines []string
		for i, m := range p.Team {
			row := map[string]any{
				"member_id": string(m.Member), "role": m.Role, "status": m.Status, "last_heartbeat": nil, "seconds_since": nil,
				"alive": m.Alive, "unread_messages": m.Unread, "your_messages_unread": m.YourUnread, "you": m.You, "task": nil,
			}
			if m.Task.ID != 0 {
				row["task"] = map[string]any{"id": m.Task.ID, "title": m.Task.Title, "state": m.Task.State}
			}
			seen := "never called"
			if !m.Heartbeat.IsZero() {
				row["last_heartbeat"] = bridge.FormatTime(m.Heartbeat)
				row["seconds_since"] = float64(int64(m.Since.Seconds()*10)) / 10
				seen = fmt.Sprintf("last call %.0f s ago", m.Since.Seconds())
			}
			members[i] = row
			state := "alive"
			if !m.Alive {
				state = "not alive"
			}
			you := ""
			if m.You {
				you = " (you)"
			}
			line := fmt.Sprintf("- %s%s, %s: %s, %s, %s, %d unread", m.Member, you, m.Role, m.Status, state, seen, m.Unread)
			if !m.You && m.YourUnread > 0 {
				line += fmt.Sprintf(", %d of your messages unread", m.YourUnread)
			}
			if m.Task.ID != 0 {
				line += fmt.Sprintf(", task %d %q (%s)", m.Task.ID, m.Task.Title, m.Task.State)
			}
			lines = append(lines, line)
		}
		out := map[string]any{
			"conversation_id":      c.ConversationID,
			"member_id":            string(p.Me),
			"session_id":           nil,
			"role":                 nil,
			"status":               p.Status,
			"last_heartbeat":       nil,
			"seconds_since":        nil,
			"alive":                p.Alive,
			"your_messages_unread": p.Receipt.Unread,
			"last_read_message_id": nil,
			"last_read_at":         nil,
			"unread_messages":      p.Unread,
			"members":              members,
		}
		if p.Receipt.LastReadID > 0 {
			out["last_read_message_id"] = p.Receipt.LastReadID
			out["last_read_at"] = bridge.FormatTime(p.Receipt.LastReadAt)
		}
		var text string
		switch {
		case len(p.Team) == 1:
			out["status"] = bridge.StatusUnknown
			text = fmt.Sprintf("Nobody else has joined %s yet: give your invite code to your partner (it calls join_conversation), or mint one with invite_member.", c.ConversationID)
		case p.Session == "":
			out["status"] = bridge.StatusUnknown
			text = fmt.Sprintf("Team of %d in %s:\n%s", len(p.Team), c.ConversationID, strings.Join(lines, "\n"))
		case p.Heartbeat.IsZero():
			out["session_id"], out["role"] = string(p.Session), p.Role
			text = fmt.Sprintf("Your partner (member %s, %s) has not made any call yet: status unknown, alive false.", p.Session, p.Role)
		default:
			out["session_id"], out["role"] = string(p.Session), p.Role
			secs := p.Since.Seconds()
			out["last_heartbeat"] = bridge.FormatTime(p.Heartbeat)
			out["seconds_since"] = float64(int64(secs*10)) / 10
			state := "alive"
			if !p.Alive {
				state = fmt.Sprintf("not alive (no call in the last %s)", bridge.Human(alive))
			}
			text = fmt.Sprintf("Your partner (member %s, %s) is %q, last heartbeat %s (%.0f seconds ago): %s.",
				p.Session, p.Role, p.Status, bridge.FormatTime(p.Heartbeat), secs, state)
		}
		if p.Session != "" {
			switch r := p.Receipt; {
			case r.Unread > 0:
				if r.Unread == 1 {
					text += " 1 of your messages is not read yet."
				} else {
					text += fmt.Sprintf(" %d of your messages are not read yet.", r.Unread)
				}
			case r.LastReadID > 0:
				text += fmt.Sprintf(" It has read all your messages (the last, id %d, at %s).", r.LastReadID, bridge.FormatTime(r.LastReadAt))
			}
		}
		return mcp.NewToolResultStructured(out, text+unreadText(p.Unread)), nil
	}}
}
