package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (h *handlers) createConversation() tool {
	cfg := h.svc.Config()
	params := []param{
		{name: "my_role", required: true, minLen: cfg.MinRoleChars, maxLen: cfg.MaxRoleChars,
			desc: `Your role in the collaboration, e.g. "backend_developer". Your partner sees it.`},
		{name: "partner_role", required: true, minLen: cfg.MinRoleChars, maxLen: cfg.MaxRoleChars,
			desc: `Your partner's role, e.g. "frontend_developer". Your partner sees it.`},
	}
	def := mcp.NewTool("create_conversation",
		mcp.WithDescription(fmt.Sprintf(
			`Start a new conversation with another agent. You become session "a". `+
				`Returns the conversation_id, your token (session a) and session b's token. `+
				`Give your partner the conversation_id, session_id "b" and session b's token; keep your own token private. `+
				`Call this once per collaboration, not to reconnect: the conversation lasts %s and both tokens stay valid until then.`,
			bridge.Human(cfg.TTL))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": str("The new conversation's id; both sessions pass it on every call."),
			"session_id":      str(`Your session: always "a".`),
			"session_a_token": str("Your token (session a). Secret: never put it in a message."),
			"session_b_token": str("Session b's token, for your partner only."),
			"my_role":         str("Your role, as stored (redacted)."),
			"partner_role":    str("Your partner's role, as stored (redacted)."),
			"expires_at":      str("When the conversation expires (RFC 3339, UTC)."),
			"unread_messages": unreadSchema,
		})),
		annotations("Create conversation", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "create_conversation"
		a := newArgs(name, params, req.GetArguments())
		mine, theirs := a.String("my_role"), a.String("partner_role")
		if err := a.Err(); err != nil {
			return h.fail(name, h.svc.Refuse(ctx, name, "", "", err)), nil
		}
		c, err := h.svc.CreateConversation(ctx, mine, theirs)
		if err != nil {
			return h.fail(name, err), nil
		}
		conv := c.Conversation
		text := fmt.Sprintf(`Conversation %s created. You are session "a" (%s); your partner is session "b" (%s).

Your token, session a (secret; pass it with session_id "a" on every call): %s

Give your partner exactly these three values:
  conversation_id: %s
  session_id: b
  token: %s

The conversation expires at %s (in %s).`,
			conv.ID, conv.RoleA, conv.RoleB, c.TokenA, conv.ID, c.TokenB,
			bridge.FormatTime(conv.ExpiresAt), conv.ExpiresAt.Sub(conv.CreatedAt).Round(time.Second))
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": conv.ID,
			"session_id":      string(bridge.SessionA),
			"session_a_token": c.TokenA,
			"session_b_token": c.TokenB,
			"my_role":         conv.RoleA,
			"partner_role":    conv.RoleB,
			"expires_at":      bridge.FormatTime(conv.ExpiresAt),
			"unread_messages": 0,
		}, text), nil
	}}
}

func (h *handlers) extendConversation() tool {
	cfg := h.svc.Config()
	params := append(callerParams(),
		param{name: "extend_by_seconds", kind: "integer", required: true, min: 1, max: int(cfg.MaxLifetime / time.Second),
			desc: fmt.Sprintf("How many seconds longer the conversation should last, counted from its current expiry (or from now if that has passed). A conversation never lasts more than %s from its creation.", bridge.Human(cfg.MaxLifetime))},
	)
	def := mcp.NewTool("extend_conversation",
		mcp.WithDescription(fmt.Sprintf(`Make your conversation last longer, so both tokens keep working. Either session may call it. Conversations expire %s after creation by default and never last more than %s in all; after that, create a new conversation.`, bridge.Human(cfg.TTL), bridge.Human(cfg.MaxLifetime))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": str("The conversation."),
			"expires_at":      str("The new expiry (RFC 3339, UTC)."),
			"capped":          map[string]any{"type": "boolean", "description": "Whether the maximum lifetime cut the extension short."},
			"unread_messages": unreadSchema,
		})),
		annotations("Extend conversation", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "extend_conversation"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		by := time.Duration(a.Int("extend_by_seconds")) * time.Second
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		x, err := h.svc.Extend(ctx, "", &c, by)
		if err != nil {
			return h.fail(name, err), nil
		}
		text := fmt.Sprintf("Conversation %s now expires at %s.", x.Conversation.ID, bridge.FormatTime(x.Conversation.ExpiresAt))
		if x.Capped {
			text += fmt.Sprintf(" That is its maximum lifetime (%s from creation).", bridge.Human(cfg.MaxLifetime))
		}
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": x.Conversation.ID,
			"expires_at":      bridge.FormatTime(x.Conversation.ExpiresAt),
			"capped":          x.Capped,
			"unread_messages": 0,
		}, text), nil
	}}
}
