package mcpserver_test

// Benchmarks for issue 14's speed targets, each a ratio measured in the
// same run, the two sides interleaved so both see the same machine state:
//
//	go test -run '^$' -bench 'SendRatio|Backlog' -benchtime 300x ./internal/mcpserver
//
// BenchmarkSendRatio: send_to_partner p50 against the physical floor, an
// MCP no-op round trip plus one durable commit (target 1.2x); and against
// the same work without the service: a bare mcp-go tool that takes the
// same arguments and answers a send's result, plus one commit of the rows a
// send stores (the message, its inbox row and counter, an audit row).
// BenchmarkBacklogSend: a send into an inbox holding 100,000 unread
// messages against a send into an empty one (target 1.5x).
// BenchmarkBacklogCheck: check_messages taking a page from 100,000 unread
// against one taking a page from a page's worth: time and bytes allocated.

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

const benchText = "benchmark message of a typical length, a sentence or two."

func BenchmarkSendRatio(b *testing.B) {
	h := newHarnessWith(b, nil) // as served: no output validation
	c := h.create()
	ctx := context.Background()
	sendReq := toolReq("send_to_partner", c.as("a", map[string]any{"message": benchText}))
	sent, err := h.c.CallTool(ctx, sendReq)
	if err != nil || sent.IsError {
		b.Fatal(err, sent)
	}
	bare := server.NewMCPServer("noop", "1")
	bare.AddTool(mcp.NewTool("noop", mcp.WithString("message")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("ok"), nil
	})
	// The same bytes both ways: a send's arguments in, a send's result out.
	bare.AddTool(mcp.NewTool("echo"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return sent, nil
	})
	noop := connect(b, bare)
	noopReq := toolReq("noop", map[string]any{"message": benchText})
	echoReq := toolReq("echo", c.as("a", map[string]any{"message": benchText}))
	// The floor's commit goes to a database of its own on the same disk:
	// the floor's commit, not a contender for the send's lock. The rows'
	// commit goes to the send's database, in a chain of its own.
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "floor.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	seq := int64(0)
	rows := func(at time.Time) error {
		seq++
		return h.db.Update(ctx, func(tx bridge.Tx) error {
			m := bridge.Message{ConversationID: c.id, From: "a", To: "b", ActionType: "info", Body: benchText, CreatedAt: at}
			if err := tx.AddMessage(&m); err != nil {
				return err
			}
			return tx.AppendAudit(bridge.AuditEntry{Chain: "floor", Seq: seq, At: at, Tool: "send_to_partner", ConversationID: c.id,
				Session: "a", Outcome: bridge.OutcomeOK, Detail: "message to b, info, 57 chars, 0 files", PrevDigest: "p", Digest: "d"})
		})
	}
	var noops, commits, echoes, rowCommits, sends []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := noop.CallTool(ctx, noopReq); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := db.Update(ctx, func(tx bridge.Tx) error { return tx.AddRequest("floor", "", t1, t1) }); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := noop.CallTool(ctx, echoReq); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if err := rows(t3); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		noops, commits = append(noops, t1.Sub(t0)), append(commits, t2.Sub(t1))
		echoes, rowCommits = append(echoes, t3.Sub(t2)), append(rowCommits, t4.Sub(t3))
		sends = append(sends, timed(b, h, sendReq))
	}
	floor := p50(noops) + p50(commits)
	same := p50(echoes) + p50(rowCommits)
	b.ReportMetric(p50(noops), "noop-p50-ns")
	b.ReportMetric(p50(commits), "commit-p50-ns")
	b.ReportMetric(p50(sends), "send-p50-ns")
	b.ReportMetric(p50(sends)/floor, "send/floor")
	b.ReportMetric(p50(sends)/same, "send/same-work")
}

// backlog adds n unread messages from a to b in one transaction.
func backlog(b *testing.B, h *harness, conv string, n int) {
	b.Helper()
	now := h.clock.Now().UTC().Truncate(time.Millisecond)
	err := h.db.Update(context.Background(), func(tx bridge.Tx) error {
		for i := 0; i < n; i++ {
			m := bridge.Message{ConversationID: conv, From: "a", To: "b", ActionType: "info", Body: "backlog", CreatedAt: now}
			if err := tx.AddMessage(&m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

const backlogSize = 100_000

func BenchmarkBacklogSend(b *testing.B) {
	h := newHarnessWith(b, nil)
	full, empty := h.create(), h.create()
	backlog(b, h, full.id, backlogSize)
	fullReq := toolReq("send_to_partner", full.as("a", map[string]any{"message": benchText}))
	emptyReq := toolReq("send_to_partner", empty.as("a", map[string]any{"message": benchText}))
	var fulls, empties []time.Duration
	for b.Loop() {
		fulls = append(fulls, timed(b, h, fullReq))
		empties = append(empties, timed(b, h, emptyReq))
		b.StopTimer()
		readAll(b, h, empty.id, []bridge.Member{"b"}) // the empty inbox stays empty
		b.StartTimer()
	}
	b.ReportMetric(p50(empties), "empty-p50-ns")
	b.ReportMetric(p50(fulls), "backlog-p50-ns")
	b.ReportMetric(p50(fulls)/p50(empties), "backlog/empty")
}

func BenchmarkBacklogCheck(b *testing.B) {
	h := newHarnessWith(b, nil)
	full, small := h.create(), h.create()
	page := h.svc.Config().PageSize
	backlog(b, h, full.id, backlogSize)
	fullReq := toolReq("check_messages", full.as("b", nil))
	smallReq := toolReq("check_messages", small.as("b", nil))
	var fulls, smalls []time.Duration
	var fullBytes, smallBytes uint64
	var ms runtime.MemStats
	alloc := func() uint64 { runtime.ReadMemStats(&ms); return ms.TotalAlloc }
	for b.Loop() {
		b.StopTimer()
		backlog(b, h, small.id, page) // a page's worth, taken whole
		if len(fulls) >= backlogSize/page-1 {
			b.Fatalf("at most %d iterations (-benchtime %dx): the backlog would run out", backlogSize/page-1, backlogSize/page-1)
		}
		a0 := alloc()
		b.StartTimer()
		fulls = append(fulls, timed(b, h, fullReq))
		b.StopTimer()
		a1 := alloc()
		b.StartTimer()
		smalls = append(smalls, timed(b, h, smallReq))
		b.StopTimer()
		a2 := alloc()
		b.StartTimer()
		fullBytes += a1 - a0
		smallBytes += a2 - a1
	}
	n := float64(len(fulls))
	b.ReportMetric(p50(smalls), "page-p50-ns")
	b.ReportMetric(p50(fulls), "backlog-p50-ns")
	b.ReportMetric(p50(fulls)/p50(smalls), "backlog/page")
	b.ReportMetric(float64(smallBytes)/n, "page-B/check")
	b.ReportMetric(float64(fullBytes)/n, "backlog-B/check")
}
