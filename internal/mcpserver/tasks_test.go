package mcpserver_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func TestTasksThroughTools(t *testing.T) { eachKind(t, testTasksThroughTools) }

// The board and leases through real MCP requests: an open task is
// announced, claimed once (the second claimer told who won), leased,
// shown in the team view, finished; refusals name what to fix.
func testTasksThroughTools(t *testing.T, k kind) {
	h := newHarnessKind(t, k, func(c *bridge.Config) { c.SessionLimits = nil })
	created := h.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true, "partner_id": "w1"})
	conv := created["conversation_id"].(string)
	tokens := map[string]string{"a": created["session_a_token"].(string)}
	codes := []string{created["invite_code"].(string)}
	as := func(id string, extra map[string]any) map[string]any {
		m := map[string]any{"conversation_id": conv, "token": tokens[id]}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	codes = append(codes, h.ok("invite_member", as("a", map[string]any{"role": "worker", "member_id": "w2"}))["invite_code"].(string))
	for _, code := range codes {
		j := h.ok("join_conversation", map[string]any{"invite_code": code})
		tokens[j["member_id"].(string)] = j["token"].(string)
	}
	made := h.ok("tasks", as("a", map[string]any{"action": "create", "title": "fix login", "files": []any{"src/auth/login.go"}}))
	task := made["task"].(map[string]any)
	if task["id"] != 1.0 || task["state"] != "open" || task["assignee"] != nil {
		t.Fatalf("created %v", made)
	}
	got := h.ok("check_messages", as("w2", nil))["messages"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["from"] != "bridge" || !strings.Contains(got[0].(map[string]any)["message"].(string), "New open task 1") {
		t.Fatalf("w2 got %v", got)
	}
	h.ok("tasks", as("w1", map[string]any{"action": "claim", "task_id": 1}))
	res := h.call("tasks", as("w2", map[string]any{"action": "claim", "task_id": 1}))
	if !res.IsError || !strings.Contains(text(res), "tasks failed (conflict): task 1 is already taken: w1 claimed it") {
		t.Fatalf("second claim: %s", text(res))
	}
	leased := h.ok("tasks", as("w1", map[string]any{"action": "lease", "paths": []any{"src/auth/**"}, "task_id": 1, "ttl_seconds": 600}))
	if l := leased["leases"].([]any); len(l) != 1 || l[0].(map[string]any)["path"] != "src/auth/**" || l[0].(map[string]any)["exclusive"] != true {
		t.Fatalf("leased %v", leased)
	}
	res = h.call("tasks", as("w2", map[string]any{"action": "lease", "paths": []any{"src/auth/token.go"}}))
	if !res.IsError || !strings.Contains(text(res), "held exclusively by w1 (role worker) until") {
		t.Fatalf("conflicting lease: %s", text(res))
	}
	for args, want := range map[string]string{
		`{"action":"lease","paths":["/etc"]}`:              "is absolute",
		`{"action":"lease","paths":["../up"]}`:             "leaves the repository",
		`{"action":"lease","paths":["x"],"ttl_seconds":5}`: "ttl_seconds must be 10 to 86400",
		`{"action":"finish","task_id":1,"note":"x"}`:       "only task 1's assignee",
		`{"action":"claim","task_id":7}`:                   "has no task 7",
		`{"action":"fly"}`:                                 "action",
	} {
		res := h.call("tasks", as("w2", decode(t, args)))
		if !res.IsError || !strings.Contains(text(res), want) {
			t.Errorf("%s: %s", args, text(res))
		}
	}
	team := h.ok("check_partner_status", as("a", nil))
	var w1Task any
	for _, m := range team["members"].([]any) {
		if r := m.(map[string]any); r["member_id"] == "w1" {
			w1Task = r["task"]
		}
	}
	if tk, ok := w1Task.(map[string]any); !ok || tk["id"] != 1.0 || tk["state"] != "working" {
		t.Fatalf("team view task of w1: %v", w1Task)
	}
	done := h.ok("tasks", as("w1", map[string]any{"action": "finish", "task_id": 1, "note": "fixed"}))
	if done["task"].(map[string]any)["state"] != "completed" || done["released_leases"] != 1.0 {
		t.Fatalf("finish: %v", done)
	}
	list := h.ok("tasks", as("a", map[string]any{"action": "list", "state": "completed"}))
	if l := list["tasks"].([]any); len(l) != 1 || l[0].(map[string]any)["note"] != "fixed" {
		t.Fatalf("list: %v", list)
	}
	if l := h.ok("tasks", as("a", map[string]any{"action": "leases"}))["leases"].([]any); len(l) != 0 {
		t.Fatalf("leases after finish: %v", l)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
