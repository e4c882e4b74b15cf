package mcpserver_test

// Benchmarks for issue 3's speed target: send_to_partner through the MCP
// layer against the sum of its two unavoidable costs, measured in the same
// run: a round trip to a bare mcp-go tool that does nothing, and one
// durable SQLite commit (WAL, synchronous=FULL) through the same store.
//
//	make bench   (or: go test -run '^$' -bench . -count 6 ./internal/mcpserver)

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

func BenchmarkNoopTool(b *testing.B) {
	s := server.NewMCPServer("noop", "1")
	s.AddTool(mcp.NewTool("noop", mcp.WithString("message")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("ok"), nil
	})
	c := connect(b, s)
	req := mcp.CallToolRequest{}
	req.Params.Name = "noop"
	req.Params.Arguments = map[string]any{"message": "benchmark message of a typical length, a sentence or two."}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.CallTool(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDurableCommit(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Now()
	for b.Loop() {
		err := db.Update(ctx, func(tx bridge.Tx) error { return tx.AddRequest("bench", "", now, now) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchHarness(b *testing.B) (*harness, conv) {
	h := newHarnessWith(b, nil) // as served: no output validation
	return h, h.create()
}

func BenchmarkSendToPartner(b *testing.B) {
	h, c := benchHarness(b)
	ctx := context.Background()
	req := mcp.CallToolRequest{}
	req.Params.Name = "send_to_partner"
	req.Params.Arguments = c.as("a", map[string]any{"message": "benchmark message of a typical length, a sentence or two."})
	for b.Loop() {
		res, err := h.c.CallTool(ctx, req)
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkCheckMessages reads one waiting message per call, with n
// messages already read in the table (flat as history grows).
func BenchmarkCheckMessages(b *testing.B) {
	for _, history := range []int{0, 10000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			h, c := benchHarness(b)
			ctx := context.Background()
			for i := 0; i < history; i++ {
				if _, err := h.svc.Send(ctx, bridge.Caller{ConversationID: c.id, Session: "a", Token: c.tokA}, bridge.SendInput{Message: "old"}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := h.svc.CheckMessages(ctx, bridge.Caller{ConversationID: c.id, Session: "b", Token: c.tokB}, bridge.CheckInput{}); err != nil {
				b.Fatal(err)
			}
			req := mcp.CallToolRequest{}
			req.Params.Name = "check_messages"
			req.Params.Arguments = c.as("b", nil)
			for b.Loop() {
				b.StopTimer()
				if _, err := h.svc.Send(ctx, bridge.Caller{ConversationID: c.id, Session: "a", Token: c.tokA}, bridge.SendInput{Message: "new"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := h.c.CallTool(ctx, req)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
		})
	}
}
