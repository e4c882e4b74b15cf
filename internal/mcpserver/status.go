package mcpserver

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (h *handlers) updateMyStatus() tool {
	params := append(callerParams(),
		param{name: "status", required: true, enum: bridge.Statuses,
			desc: `What you are doing now: "working", "waiting" (for your partner), "blocked", or "complete".`},
	)
	def := mcp.NewTool("update_my_status",
		mcp.WithDescription(`Record your current status and a heartbeat, so your partner's check_partner_status shows what you are doing and that you are alive. `+
			`Call it when your status changes and now and then while you work.`),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": str("The conversation."),
			"session_id":      str("Your session."),
			"status":          map[string]any{"type": "string", "enum": bridge.Statuses},
			"last_heartbeat":  str("The heartbeat just recorded (RFC 3339, UTC)."),
			"unread_messages": unreadSchema,
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
		}, fmt.Sprintf("Status of session %s set to %q; heartbeat recorded at %s.", st.Session, st.Status, bridge.FormatTime(st.Heartbeat))+unreadText(st.Unread)), nil
	}}
}

func (h *handlers) checkPartnerStatus() tool {
	params := callerParams()
	alive := h.svc.Config().AliveWindow
	def := mcp.NewTool("check_partner_status",
		mcp.WithDescription(fmt.Sprintf(`Report your partner's last status ("working", "waiting", "blocked", "complete", or "unknown" if it never set one), its last heartbeat (any call by your partner counts), how many seconds ago that was, whether it is alive (heartbeat younger than %s), and whether it has read your messages. `+
			`Use it to decide whether to wait for a reply.`, bridge.Human(alive))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id":      str("The conversation."),
			"session_id":           str("Your partner's session."),
			"role":                 str("Your partner's role."),
			"status":               map[string]any{"type": "string", "enum": append([]string{bridge.StatusUnknown}, bridge.Statuses...)},
			"last_heartbeat":       map[string]any{"type": []string{"string", "null"}, "description": "The partner's last heartbeat (RFC 3339, UTC); null if it never reported."},
			"seconds_since":        map[string]any{"type": []string{"number", "null"}, "description": "Seconds since that heartbeat; null if it never reported."},
			"alive":                map[string]any{"type": "boolean", "description": fmt.Sprintf("Whether the heartbeat is younger than %s.", bridge.Human(alive))},
			"your_messages_unread": map[string]any{"type": "integer", "minimum": 0, "description": "How many of your messages your partner has not read yet."},
			"last_read_message_id": map[string]any{"type": []string{"integer", "null"}, "description": "The newest of your messages your partner has read; null if none."},
			"last_read_at":         map[string]any{"type": []string{"string", "null"}, "description": "When your partner read it (RFC 3339, UTC); null if none."},
			"unread_messages":      unreadSchema,
		})),
		// Read-only for the caller: it changes nothing the partner sees.
		annotations("Check partner status", true, true),
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
		out := map[string]any{
			"conversation_id":      c.ConversationID,
			"session_id":           string(p.Session),
			"role":                 p.Role,
			"status":               p.Status,
			"last_heartbeat":       nil,
			"seconds_since":        nil,
			"alive":                p.Alive,
			"your_messages_unread": p.Receipt.Unread,
			"last_read_message_id": nil,
			"last_read_at":         nil,
			"unread_messages":      p.Unread,
		}
		if p.Receipt.LastReadID > 0 {
			out["last_read_message_id"] = p.Receipt.LastReadID
			out["last_read_at"] = bridge.FormatTime(p.Receipt.LastReadAt)
		}
		var text string
		if p.Heartbeat.IsZero() {
			text = fmt.Sprintf("Your partner (session %s, %s) has not made any call yet: status unknown, alive false.", p.Session, p.Role)
		} else {
			secs := p.Since.Seconds()
			out["last_heartbeat"] = bridge.FormatTime(p.Heartbeat)
			out["seconds_since"] = float64(int64(secs*10)) / 10
			state := "alive"
			if !p.Alive {
				state = fmt.Sprintf("not alive (no heartbeat in the last %s)", bridge.Human(alive))
			}
			text = fmt.Sprintf("Your partner (session %s, %s) is %q, last heartbeat %s (%.0f seconds ago): %s.",
				p.Session, p.Role, p.Status, bridge.FormatTime(p.Heartbeat), secs, state)
		}
		switch r := p.Receipt; {
		case r.Unread > 0:
			text += fmt.Sprintf(" %d of your messages are not read yet.", r.Unread)
		case r.LastReadID > 0:
			text += fmt.Sprintf(" It has read all your messages (the last, id %d, at %s).", r.LastReadID, bridge.FormatTime(r.LastReadAt))
		}
		return mcp.NewToolResultStructured(out, text+unreadText(p.Unread)), nil
	}}
}
