package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// A client that keeps sending refused calls stops growing the audit trail:
// past the refusal limit its calls are answered at once and not recorded.
func TestRefusedCallsAreBounded(t *testing.T) {
	for _, k := range []kind{inProcess, overHTTP} {
		t.Run(k.name, func(t *testing.T) {
			h := newHarnessOf(t, k, func(c *bridge.Config) { c.RefusalLimits = bridge.DefaultConfig().RefusalLimits })
			ctx := context.Background()
			bogus := strings.Repeat("x", 10_000)
			limit := bridge.DefaultConfig().RefusalLimits[0].Max
			var last *mcp.CallToolResult
			for i := 0; i < limit+20; i++ {
				req := mcp.CallToolRequest{}
				req.Params.Name = "send_to_partner"
				req.Params.Arguments = map[string]any{"conversation_id": "conv_0123456789abcdef", "session_id": "a", "token": bogus, "message": bogus}
				res, err := h.c.CallTool(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				last = res
			}
			if !last.IsError || !strings.Contains(text(last), "too many refused calls") {
				t.Fatalf("after %d refusals: %q", limit+20, text(last))
			}
			rows, err := h.svc.Audit(ctx, bridge.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != limit {
				t.Fatalf("%d audit rows after %d refused calls; want the first %d only", len(rows), limit+20, limit)
			}
		})
	}
}
