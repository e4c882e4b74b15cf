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
			desc: `Your role, e.g. "orchestrator". Others see it.`},
		{name: "partner_role", required: true, minLen: cfg.MinRoleChars, maxLen: cfg.MaxRoleChars,
			desc: `Your first partner's role, e.g. "backend_worker".`},
		{name: "invite", kind: "boolean", def: false,
			desc: "true (recommended): get a one-time invite code for your partner instead of its token."},
		{name: "partner_id", pattern: bridge.MemberIDPattern,
			desc: `With invite: your partner's member id (default "b").`},
	}
	shape := "Prefer invite true."
	if cfg.RequireInvites {
		shape = "This bridge requires invite true."
	}
	def := mcp.NewTool("create_conversation",
		mcp.WithDescription(fmt.Sprintf(`Start a conversation; you become member "a" and receive your own token. `+
			`With invite true you also get a one-time invite_code: give your partner only that code; it calls join_conversation and receives its own token, which you never see. `+
			`Without invite (the original shape) you receive your partner's token too and must pass it on, so you hold another agent's credential. %s `+
			`Add members later with invite_member. Call once per collaboration; it lasts %s.`, shape, bridge.Human(cfg.TTL))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"session_id":      typ("string"),
			"session_a_token": typ("string"),
			"session_b_token": typ("string", "null"),
			"invite_code":     typ("string", "null"),
			"invite_expires":  typ("string", "null"),
			"partner_id":      typ("string"),
			"my_role":         typ("string"),
			"partner_role":    typ("string"),
			"expires_at":      typ("string"),
			"unread_messages": typ("integer"),
		})),
		annotations("Create conversation", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "create_conversation"
		a := newArgs(name, params, req.GetArguments())
		in := bridge.CreateInput{MyRole: a.String("my_role"), PartnerRole: a.String("partner_role"), Invite: a.Bool("invite"), PartnerID: bridge.Member(a.String("partner_id"))}
		if err := a.Err(); err != nil {
			return h.fail(name, h.svc.Refuse(ctx, name, "", "", err)), nil
		}
		c, err := h.svc.Create(ctx, in)
		if err != nil {
			return h.fail(name, err), nil
		}
		conv := c.Conversation
		out := map[string]any{
			"conversation_id": conv.ID,
			"session_id":      string(bridge.SessionA),
			"session_a_token": c.TokenA,
			"session_b_token": nil,
			"invite_code":     nil,
			"invite_expires":  nil,
			"partner_id":      string(bridge.SessionB),
			"my_role":         conv.RoleA,
			"partner_role":    conv.RoleB,
			"expires_at":      bridge.FormatTime(conv.ExpiresAt),
			"unread_messages": 0,
		}
		var text string
		if c.Invite.Code != "" {
			out["invite_code"], out["invite_expires"], out["partner_id"] = c.Invite.Code, bridge.FormatTime(c.Invite.ExpiresAt), string(c.Invite.Member)
			text = fmt.Sprintf(`Conversation %s created. You are member "a" (%s).

Your token (secret; pass it on every call with conversation_id %s): %s

Give your partner (member %q, %s) this one-time invite code, and nothing else: %s
It calls join_conversation with the code and receives its own token. The code works once and expires at %s.

The conversation expires at %s. Invite more members with invite_member.`,
				conv.ID, conv.RoleA, conv.ID, c.TokenA, c.Invite.Member, c.Invite.Role, c.Invite.Code,
				bridge.FormatTime(c.Invite.ExpiresAt), bridge.FormatTime(conv.ExpiresAt))
		} else {
			out["session_b_token"] = c.TokenB
			text = fmt.Sprintf(`Conversation %s created. You are session "a" (%s); your partner is session "b" (%s).

Your token, session a (secret; pass it with session_id "a" on every call): %s

Give your partner exactly these three values:
  conversation_id: %s
  session_id: b
  token: %s

The conversation expires at %s (in %s). Next time prefer invite true, so no agent holds another's token.`,
				conv.ID, conv.RoleA, conv.RoleB, c.TokenA, conv.ID, c.TokenB,
				bridge.FormatTime(conv.ExpiresAt), conv.ExpiresAt.Sub(conv.CreatedAt).Round(time.Second))
		}
		return mcp.NewToolResultStructured(out, text), nil
	}}
}

func (h *handlers) extendConversation() tool {
	cfg := h.svc.Config()
	params := append(callerParams(),
		param{name: "extend_by_seconds", kind: "integer", required: true, min: 1, max: int(cfg.MaxLifetime / time.Second),
			desc: "Seconds to add, from the current expiry (or now if past)."},
	)
	def := mcp.NewTool("extend_conversation",
		mcp.WithDescription(fmt.Sprintf(`Make your conversation last longer, so every token keeps working. Any member may call it; a conversation never lasts more than %s from its creation.`, bridge.Human(cfg.MaxLifetime))),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"expires_at":      typ("string"),
			"capped":          typ("boolean"),
			"unread_messages": typ("integer"),
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
			"unread_messages": x.Unread,
		}, text+unreadText(x.Unread)), nil
	}}
}
