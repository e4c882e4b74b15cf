package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (h *handlers) inviteMember() tool {
	cfg := h.svc.Config()
	params := append(callerParams(),
		param{name: "role", required: true, minLen: cfg.MinRoleChars, maxLen: cfg.MaxRoleChars,
			desc: `The new member's role, e.g. "test_writer".`},
		param{name: "member_id", pattern: bridge.MemberIDPattern,
			desc: `The new member's id, e.g. "worker-1". Default: chosen at join.`},
		param{name: "expires_in_seconds", kind: "integer", min: 60, max: int(cfg.MaxLifetime / time.Second),
			desc: fmt.Sprintf("Default %d.", int(cfg.InviteTTL/time.Second))},
	)
	def := mcp.NewTool("invite_member",
		mcp.WithDescription(fmt.Sprintf(`Mint a one-time invite code for one new member (any member may). `+
			`Give the code to that agent: it calls join_conversation with it and receives its own token, which you never see. `+
			`One code per agent; it works once and expires after %s by default. A conversation holds at most %d members.`,
			bridge.Human(cfg.InviteTTL), cfg.MaxMembers)),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"invite_code":     typ("string"),
			"member_id":       typ("string", "null"),
			"role":            typ("string"),
			"expires_at":      typ("string"),
		})),
		annotations("Invite member", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "invite_member"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		in := bridge.InviteInput{Role: a.String("role"), Member: bridge.Member(a.String("member_id")),
			TTL: time.Duration(a.Int("expires_in_seconds")) * time.Second}
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		inv, err := h.svc.Invite(ctx, c, in)
		if err != nil {
			return h.fail(name, err), nil
		}
		var member any
		who := "the member id it chooses (or one derived from its role)"
		if inv.Member != "" {
			member, who = string(inv.Member), fmt.Sprintf("member %q", inv.Member)
		}
		text := fmt.Sprintf("Invite code for a new %s, as %s: %s\nGive the agent only this code; it calls join_conversation with it. The code works once and expires at %s.",
			inv.Role, who, inv.Code, bridge.FormatTime(inv.ExpiresAt))
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": inv.ConversationID,
			"invite_code":     inv.Code,
			"member_id":       member,
			"role":            inv.Role,
			"expires_at":      bridge.FormatTime(inv.ExpiresAt),
		}, text), nil
	}}
}

func (h *handlers) joinConversation() tool {
	params := []param{
		{name: "invite_code", required: true, pattern: bridge.InviteCodePattern,
			desc: "The code you were given, XXXX-XXXX-XXXX."},
		{name: "member_id", pattern: bridge.MemberIDPattern,
			desc: "Your member id, if the invite left it open. Default: derived from your role."},
	}
	def := mcp.NewTool("join_conversation",
		mcp.WithDescription(`Join a conversation with the one-time invite code another agent gave you. `+
			`Returns the conversation_id, your member id, your role, the team, and your own token: keep the token secret and pass it with conversation_id on every call. `+
			`A code works once; if it is refused, ask for a new one.`),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"member_id":       typ("string"),
			"role":            typ("string"),
			"token":           typ("string"),
			"invited_by":      typ("string"),
			"members":         map[string]any{"type": "array", "items": memberSchema},
			"expires_at":      typ("string"),
		})),
		annotations("Join conversation", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "join_conversation"
		a := newArgs(name, params, req.GetArguments())
		code, member := a.String("invite_code"), bridge.Member(a.String("member_id"))
		if err := a.Err(); err != nil {
			return h.fail(name, h.svc.Refuse(ctx, name, "", "", err)), nil
		}
		j, err := h.svc.Join(ctx, code, member)
		if err != nil {
			return h.fail(name, err), nil
		}
		members := make([]map[string]any, len(j.Members))
		var roster []string
		for i, m := range j.Members {
			members[i] = map[string]any{"member_id": string(m.Member), "role": m.Role}
			roster = append(roster, fmt.Sprintf("%s (%s)", m.Member, m.Role))
		}
		text := fmt.Sprintf(`You joined conversation %s as member %q (%s), invited by %s.

Your token (secret; pass it with conversation_id %s on every call, never in a message): %s

Members: %s. The conversation expires at %s. Next: check_messages with wait_seconds to receive work.`,
			j.Conversation.ID, j.Member, j.Role, j.InvitedBy, j.Conversation.ID, j.Token, strings.Join(roster, ", "), bridge.FormatTime(j.Conversation.ExpiresAt))
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": j.Conversation.ID,
			"member_id":       string(j.Member),
			"role":            j.Role,
			"token":           j.Token,
			"invited_by":      string(j.InvitedBy),
			"members":         members,
			"expires_at":      bridge.FormatTime(j.Conversation.ExpiresAt),
		}, text), nil
	}}
}

// memberSchema declares one member in a team listing.
var memberSchema = map[string]any{"type": "object", "properties": map[string]any{"member_id": typ("string"), "role": typ("string")}}

func (h *handlers) leaveConversation() tool {
	params := append(callerParams(),
		param{name: "member_id", pattern: bridge.MemberIDPattern,
			desc: `Creator only: the member to remove. Omit to leave yourself.`},
	)
	def := mcp.NewTool("leave_conversation",
		mcp.WithDescription(`Leave the conversation, or, as its creator (member "a"), remove member_id. `+
			`That member's token stops working at once, everywhere; rejoining needs a new invite.`),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id": typ("string"),
			"member_id":       typ("string"),
			"removed":         typ("boolean"),
		})),
		mcp.WithToolAnnotation(mcp.ToolAnnotation{
			ReadOnlyHint: ptr(false), DestructiveHint: ptr(true), IdempotentHint: ptr(false), OpenWorldHint: ptr(false),
		}),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "leave_conversation"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		target := bridge.Member(a.String("member_id"))
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		l, err := h.svc.Leave(ctx, c, target)
		if err != nil {
			return h.fail(name, err), nil
		}
		text := fmt.Sprintf("You left conversation %s; your token no longer works.", l.ConversationID)
		if l.Removed {
			text = fmt.Sprintf("Member %s was removed from %s; its token no longer works. It can rejoin only with a new invite.", l.Member, l.ConversationID)
		}
		return mcp.NewToolResultStructured(map[string]any{
			"conversation_id": l.ConversationID,
			"member_id":       string(l.Member),
			"removed":         l.Removed,
		}, text), nil
	}}
}
