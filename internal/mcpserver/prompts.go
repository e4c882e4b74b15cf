package mcpserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Prompts offer the common flows as MCP prompts, which clients such as
// Claude Code show as slash commands. Each expands to one short, exact
// instruction naming the tools and arguments to use; none holds a token.
type prompt struct {
	def     mcp.Prompt
	handler server.PromptHandlerFunc
}

func (h *handlers) prompts() []prompt {
	return []prompt{
		{mcp.NewPrompt("start_team",
			mcp.WithPromptDescription("Start a conversation and invite teammates with one-time codes."),
			mcp.WithArgument("my_role", mcp.ArgumentDescription(`Your role, e.g. "orchestrator".`), mcp.RequiredArgument()),
			mcp.WithArgument("teammates", mcp.ArgumentDescription(`Roles of the agents to invite, comma-separated, e.g. "backend, frontend, tests".`), mcp.RequiredArgument()),
		), h.startTeam},
		{mcp.NewPrompt("join_team",
			mcp.WithPromptDescription("Join a conversation with the invite code you were given."),
			mcp.WithArgument("invite_code", mcp.ArgumentDescription("The code, e.g. ABCD-EFGH-JKMN."), mcp.RequiredArgument()),
		), h.joinTeam},
		{mcp.NewPrompt("hand_over",
			mcp.WithPromptDescription("Hand your current work to a teammate: what is done, what is left, which files."),
			mcp.WithArgument("to", mcp.ArgumentDescription(`The teammate's member id, e.g. "b" or "worker-2".`), mcp.RequiredArgument()),
		), h.handOver},
		{mcp.NewPrompt("catch_up",
			mcp.WithPromptDescription("Summarise what was said in a conversation since you last looked."),
			mcp.WithArgument("after_id", mcp.ArgumentDescription("The last message id you saw (0 for everything).")),
		), h.catchUp},
	}
}

func promptResult(desc, text string) *mcp.GetPromptResult {
	return mcp.NewGetPromptResult(desc, []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))})
}

func (h *handlers) startTeam(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	role := strings.TrimSpace(req.Params.Arguments["my_role"])
	var roles []string
	for _, r := range strings.Split(req.Params.Arguments["teammates"], ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	if role == "" || len(roles) == 0 {
		return nil, fmt.Errorf("start_team needs my_role and at least one teammate role")
	}
	if most := h.svc.Config().MaxMembers - 1; len(roles) > most {
		return nil, fmt.Errorf("start_team: at most %d teammates fit in one conversation; %d were named", most, len(roles))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Start a team on agent-bridge.\n1. Call create_conversation with my_role %q, partner_role %q and invite true. Keep the token it returns private.\n", role, roles[0])
	for i, r := range roles[1:] {
		fmt.Fprintf(&b, "%d. Call invite_member with role %q.\n", i+2, r)
	}
	fmt.Fprintf(&b, "%d. Show me each invite code with the role it is for, so I can paste it into that agent's session. Never share your token.\n", len(roles)+1)
	fmt.Fprintf(&b, "%d. Then wait for them with check_messages and wait_seconds 300, and check_partner_status to see who has joined.", len(roles)+2)
	return promptResult("Start a team of "+strconv.Itoa(len(roles)+1), b.String()), nil
}

func (h *handlers) joinTeam(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	code := strings.TrimSpace(req.Params.Arguments["invite_code"])
	if code == "" {
		return nil, fmt.Errorf("join_team needs invite_code")
	}
	return promptResult("Join a team", fmt.Sprintf("Join an agent-bridge conversation: call join_conversation with invite_code %q. "+
		"Keep the token it returns private and pass it, with the conversation_id, on every later call. "+
		"Then call check_messages with wait_seconds 300 to receive your first instructions, and update_my_status as you work.", code)), nil
}

func (h *handlers) handOver(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	to := strings.TrimSpace(req.Params.Arguments["to"])
	if !bridge.Member(to).Valid() {
		return nil, fmt.Errorf("hand_over: to must be a member id such as \"b\" or \"worker-2\" (pattern %s)", bridge.MemberIDPattern)
	}
	return promptResult("Hand over to "+to, fmt.Sprintf("Hand your current work over to member %q on agent-bridge. "+
		"Call send_to_partner with to %q, action_type \"proposal\", files_involved listing every file you changed or were about to change, and a message in three short parts: "+
		"what is done (and how you checked it), what is left (in order), and anything that will surprise them. Then call update_my_status with status \"waiting\".", to, to)), nil
}

func (h *handlers) catchUp(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	after := strings.TrimSpace(req.Params.Arguments["after_id"])
	if after == "" {
		after = "0"
	}
	if n, err := strconv.ParseInt(after, 10, 64); err != nil || n < 0 {
		return nil, fmt.Errorf("catch_up: after_id must be a message id (a whole number, 0 for everything)")
	}
	return promptResult("Catch up", fmt.Sprintf("Catch up on agent-bridge: call check_messages with history true and after_id %s (repeat with the last id you got while it returns a full page), "+
		"then check_partner_status. Summarise for me in a few lines: decisions made, questions waiting for an answer (and from whom), who is working on what, and anything blocked. "+
		"Quote nothing that looks like a secret. Reading history marks nothing read.", after)), nil
}
