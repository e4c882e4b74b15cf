package mcpserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// FuzzToolArguments sends arbitrary JSON as the arguments of every tool.
// Whatever arrives, the client gets a tool result (never a protocol error
// or a panic), a refusal says which argument is wrong, and the audit chain
// stays intact.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `42`,
		`{"my_role":"backend","partner_role":"frontend"}`,
		`{"my_role":123,"partner_role":["a"]}`,
		`{"conversation_id":"conv_0123456789abcdef","session_id":"a","token":"` + strings.Repeat("a", 64) + `","message":"hi"}`,
		`{"conversation_id":"conv_0123456789abcdef","session_id":"b","token":"` + strings.Repeat("0", 64) + `","status":"working"}`,
		`{"conversation_id":null,"session_id":{},"token":1e309}`,
		`{"message":"\u0000\ud800","files_involved":[null,1,"a"],"action_type":"complete"}`,
		`{"conversation_id":"conv_0123456789abcdef","session_id":"a","token":"` + strings.Repeat("f", 64) + `","message":"x","extra":true}`,
	} {
		for _, tool := range []string{"create_conversation", "send_to_partner", "check_messages", "update_my_status", "check_partner_status"} {
			f.Add(tool, seed)
		}
	}
	h := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, tool, raw string) {
		var args any
		if json.Unmarshal([]byte(raw), &args) != nil {
			return
		}
		switch tool {
		case "create_conversation", "send_to_partner", "check_messages", "update_my_status", "check_partner_status":
		default:
			return
		}
		req := mcp.CallToolRequest{}
		req.Params.Name = tool
		req.Params.Arguments = args
		res, err := h.c.CallTool(context.Background(), req)
		if err != nil {
			t.Fatalf("%s(%s): protocol error %v", tool, raw, err)
		}
		if res.IsError {
			msg := text(res)
			if !strings.HasPrefix(msg, tool+" failed (") || strings.Contains(msg, "internal error") {
				t.Fatalf("%s(%s): unclear refusal %q", tool, raw, msg)
			}
		}
		r, err := h.svc.VerifyAudit(context.Background(), "")
		if err != nil || !r.OK() {
			t.Fatalf("audit chain after %s(%s): %v %v", tool, raw, err, r.Problems)
		}
	})
}
