package mcpserver_test

import (
	"strings"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
)

func TestTeamThroughTools(t *testing.T) { eachKind(t, testTeamThroughTools) }

// An orchestrator creates a conversation with an invite and invites two
// more workers; each joins with its code alone; messages are addressed to
// one member or all; the team view shows everyone.
func testTeamThroughTools(t *testing.T, k kind) {
	h := newHarnessKind(t, k, nil)
	created := h.call("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true, "partner_id": "w1"})
	out := structured(t, created)
	if out["session_b_token"] != nil || out["invite_code"] == nil || !strings.Contains(text(created), out["invite_code"].(string)) {
		t.Fatalf("create with invite: %v\n%s", out, text(created))
	}
	conv := out["conversation_id"].(string)
	me := func(extra map[string]any) map[string]any {
		m := map[string]any{"conversation_id": conv, "token": out["session_a_token"]}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	if alone := h.call("check_partner_status", me(nil)); !strings.Contains(text(alone), "Nobody else has joined") || structured(t, alone)["alive"] != false {
		t.Fatalf("before anyone joined: %s", text(alone))
	}
	codes := []string{out["invite_code"].(string)}
	for _, id := range []string{"w2", "w3"} {
		inv := h.ok("invite_member", me(map[string]any{"role": "worker", "member_id": id}))
		codes = append(codes, inv["invite_code"].(string))
	}
	tokens := map[string]string{}
	for i, code := range codes {
		j := h.ok("join_conversation", map[string]any{"invite_code": code})
		if j["conversation_id"] != conv || len(j["members"].([]any)) != i+2 {
			t.Fatalf("join: %v", j)
		}
		tokens[j["member_id"].(string)] = j["token"].(string)
	}
	as := func(id string, extra map[string]any) map[string]any {
		m := map[string]any{"conversation_id": conv, "token": tokens[id]}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	res := h.call("join_conversation", map[string]any{"invite_code": codes[1]})
	if !res.IsError || !strings.Contains(text(res), "already used") {
		t.Fatalf("a redeemed code: %s", text(res))
	}
	res = h.call("send_to_partner", as("w1", map[string]any{"message": "hi"}))
	if !res.IsError || !strings.Contains(text(res), "to is required") {
		t.Fatalf("a send without to in a team: %s", text(res))
	}
	q := h.ok("send_to_partner", as("w1", map[string]any{"message": "which API?", "to": "a", "action_type": "question"}))
	h.ok("send_to_partner", me(map[string]any{"message": "REST; see the plan", "to": "all", "reply_to": q["message_id"]}))

	inbox := h.call("check_messages", as("w2", nil))
	msgs := structured(t, inbox)["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("w2 got %v", msgs)
	}
	m := msgs[0].(map[string]any)
	if m["from"] != "a" || m["role"] != "orchestrator" || m["to"] != "all" || m["reply_to"] != q["message_id"] {
		t.Fatalf("w2 sees %v", m)
	}
	if !strings.Contains(text(inbox), `from=a role="orchestrator" to=all`) {
		t.Fatalf("inbox text: %s", text(inbox))
	}
	got := h.ok("check_messages", me(nil))["messages"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["from"] != "w1" || got[0].(map[string]any)["role"] != "worker" {
		t.Fatalf("a got %v", got)
	}
	team := h.call("check_partner_status", me(nil))
	st := structured(t, team)
	if len(st["members"].([]any)) != 4 || st["session_id"] != nil {
		t.Fatalf("team view: %v", st)
	}
	for _, id := range []string{"w1", "w2", "w3"} {
		if !strings.Contains(text(team), "- "+id+", worker") {
			t.Fatalf("team text lacks %s: %s", id, text(team))
		}
	}
	// w3 has not read the broadcast yet: a's view says so.
	for _, row := range st["members"].([]any) {
		r := row.(map[string]any)
		if r["member_id"] == "w3" && (r["your_messages_unread"] != 1.0 || r["unread_messages"] != 1.0) {
			t.Fatalf("w3's row: %v", r)
		}
	}
	left := h.ok("leave_conversation", as("w3", nil))
	if left["member_id"] != "w3" || left["removed"] != false {
		t.Fatalf("leave: %v", left)
	}
	res = h.call("check_messages", as("w3", nil))
	if !res.IsError || !strings.Contains(text(res), "no longer in conversation") {
		t.Fatalf("after leaving: %s", text(res))
	}
}

func TestRequireInvitesThroughTools(t *testing.T) {
	h := newHarness(t, func(c *bridge.Config) { c.RequireInvites = true })
	res := h.call("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker"})
	if !res.IsError || !strings.Contains(text(res), "invite true") {
		t.Fatalf("original shape allowed: %s", text(res))
	}
	h.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true})
}

// A model that has never seen the bridge learns the invite flow from the
// declarations alone.
func TestDescriptionsExplainTheInviteFlow(t *testing.T) {
	h := newHarness(t, nil)
	for tool, says := range map[string][]string{
		"create_conversation": {"invite true", "join_conversation", "Prefer"},
		"invite_member":       {"join_conversation", "works once"},
		"join_conversation":   {"invite code", "token"},
		"check_messages":      {"exactly once", "wait_seconds", "a long wait included, keeps your heartbeat fresh"},
	} {
		st := h.srv.GetTool(tool)
		for _, s := range says {
			if !strings.Contains(st.Tool.Description, s) {
				t.Errorf("%s description lacks %q: %s", tool, s, st.Tool.Description)
			}
		}
	}
	for _, s := range []string{"10 requests per minute", "keeps your heartbeat fresh", "session_id is optional", "invite_member"} {
		if !strings.Contains(mcpserver.Instructions(bridge.DefaultConfig()), s) {
			t.Errorf("instructions lack %q", s)
		}
	}
}
