package mcpserver_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// toolsListBytes is the size of the JSON tools array a client receives
// from tools/list: agents pay for it on every turn.
func toolsListBytes(t *testing.T, h *harness) int {
	t.Helper()
	res, err := h.c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.Tools)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// The default tools/list stays within its budget: 10 KB for the
// conversation tools plus what the tasks tool needs.
func TestToolsListUnder10KB(t *testing.T) {
	h := newHarness(t, func(c *bridge.Config) { *c = bridge.DefaultConfig() }) // as served by default
	n := toolsListBytes(t, h)
	t.Logf("tools/list: %d bytes", n)
	if n > 12500 {
		t.Fatalf("tools/list is %d bytes; the budget is 12500", n)
	}
}
