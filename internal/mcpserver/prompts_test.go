package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// The common flows are offered as prompts (slash commands in Claude Code),
// each naming the tools and arguments to use, and refusing bad arguments
// with what to fix.
func TestPrompts(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	list, err := h.c.ListPrompts(ctx, mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Prompts {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "catch_up,hand_over,join_team,start_team" {
		t.Fatalf("prompts: %s", got)
	}
	get := func(name string, args map[string]string) (string, error) {
		req := mcp.GetPromptRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		res, err := h.c.GetPrompt(ctx, req)
		if err != nil {
			return "", err
		}
		return res.Messages[0].Content.(mcp.TextContent).Text, nil
	}
	for _, c := range []struct {
		name string
		args map[string]string
		want []string
	}{
		{"start_team", map[string]string{"my_role": "orchestrator", "teammates": "backend, frontend, tests"},
			[]string{"create_conversation", `partner_role "backend"`, "invite true", `invite_member with role "frontend"`, `invite_member with role "tests"`, "Never share your token"}},
		{"join_team", map[string]string{"invite_code": "ABCD-EFGH-JKMN"}, []string{`join_conversation with invite_code "ABCD-EFGH-JKMN"`}},
		{"hand_over", map[string]string{"to": "worker-2"}, []string{`send_to_partner with to "worker-2"`, "files_involved"}},
		{"catch_up", map[string]string{"after_id": "41"}, []string{"history true and after_id 41", "marks nothing read"}},
	} {
		text, err := get(c.name, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q: %s", c.name, w, text)
			}
		}
	}
	for name, args := range map[string]map[string]string{
		"start_team": {"my_role": "lead", "teammates": " , "},
		"hand_over":  {"to": "Worker 2"},
		"catch_up":   {"after_id": "-3"},
	} {
		if _, err := get(name, args); err == nil {
			t.Errorf("%s%v was accepted", name, args)
		}
	}
}
