package mcpserver_test

// Benchmarks for issue 19's speed targets, each measured against a
// two-member send in the same run, interleaved so both see the same machine
// state:
//
//	go test -run '^$' -bench 'Broadcast|Join' -benchtime 1000x -count 3 ./internal/mcpserver
//
// They report p50 latencies (ns) and their ratio. Targets: a broadcast to
// 31 members at most 1.5x a two-member send; a join no more than a send.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func p50(ds []time.Duration) float64 {
	slices.Sort(ds)
	return float64(ds[len(ds)/2].Nanoseconds())
}

func toolReq(name string, args map[string]any) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return req
}

// timed calls req and returns how long it took.
func timed(b *testing.B, h *harness, req mcp.CallToolRequest) time.Duration {
	start := time.Now()
	res, err := h.c.CallTool(context.Background(), req)
	d := time.Since(start)
	if err != nil || res.IsError {
		b.Fatal(err, res)
	}
	return d
}

// newTeam creates a conversation whose creator has invited and seen join
// `workers` members; it returns the creator and the workers' ids.
func newTeam(b *testing.B, h *harness, workers int) (bridge.Caller, []bridge.Member) {
	ctx := context.Background()
	c, err := h.svc.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "worker", Invite: true})
	if err != nil {
		b.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Token: c.TokenA}
	code := c.Invite.Code
	var ids []bridge.Member
	for i := 0; i < workers; i++ {
		if i > 0 {
			inv, err := h.svc.Invite(ctx, a, bridge.InviteInput{Role: "worker"})
			if err != nil {
				b.Fatal(err)
			}
			code = inv.Code
		}
		j, err := h.svc.Join(ctx, code, "")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, j.Member)
	}
	return a, ids
}

// readAll lets every member take what waits for it, as members that keep
// up with their inbox do.
func readAll(b *testing.B, h *harness, conv string, members []bridge.Member) {
	err := h.db.Update(context.Background(), func(tx bridge.Tx) error {
		for _, m := range members {
			if _, err := tx.TakeUnread(conv, m, time.Now(), 1000); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBroadcast31VsPairSend: members that keep up read between
// sends (untimed); with nobody reading, every member's backlog grows and
// each broadcast touches one more page of the unread index per member.
func BenchmarkBroadcast31VsPairSend(b *testing.B) {
	for _, keepUp := range []bool{true, false} {
		name := "readers-keep-up"
		if !keepUp {
			name = "nobody-reads"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarnessWith(b, nil) // as served: no output validation
			pair := h.create()
			lead, workers := newTeam(b, h, 31)
			const text = "benchmark message of a typical length, a sentence or two."
			pairReq := toolReq("send_to_partner", pair.as("a", map[string]any{"message": text}))
			allReq := toolReq("send_to_partner", map[string]any{"conversation_id": lead.ConversationID, "token": lead.Token, "message": text, "to": "all"})
			var pairs, alls []time.Duration
			for b.Loop() {
				pairs = append(pairs, timed(b, h, pairReq))
				alls = append(alls, timed(b, h, allReq))
				if keepUp {
					b.StopTimer()
					readAll(b, h, pair.id, []bridge.Member{"b"})
					readAll(b, h, lead.ConversationID, workers)
					b.StartTimer()
				}
			}
			b.ReportMetric(p50(pairs), "pair-p50-ns")
			b.ReportMetric(p50(alls), "broadcast31-p50-ns")
			b.ReportMetric(p50(alls)/p50(pairs), "ratio")
		})
	}
}

// BenchmarkJoinVsSend measures a join against a send in a pair and a
// direct send in the conversation being joined (teams of 2 to 32 members:
// both read the member list).
func BenchmarkJoinVsSend(b *testing.B) {
	h := newHarnessWith(b, nil)
	pair := h.create()
	ctx := context.Background()
	const text = "benchmark message of a typical length, a sentence or two."
	pairReq := toolReq("send_to_partner", pair.as("a", map[string]any{"message": text}))
	var sends, teamSends, joins []time.Duration
	var lead bridge.Caller
	var teamReq mcp.CallToolRequest
	seats := 32
	for b.Loop() {
		b.StopTimer()
		if seats == 32 {
			var workers []bridge.Member
			lead, workers = newTeam(b, h, 1)
			teamReq = toolReq("send_to_partner", map[string]any{"conversation_id": lead.ConversationID, "token": lead.Token, "message": text, "to": string(workers[0])})
			seats = 2
		}
		inv, err := h.svc.Invite(ctx, lead, bridge.InviteInput{Role: "worker"})
		if err != nil {
			b.Fatal(err)
		}
		seats++
		b.StartTimer()
		joins = append(joins, timed(b, h, toolReq("join_conversation", map[string]any{"invite_code": inv.Code})))
		sends = append(sends, timed(b, h, pairReq))
		teamSends = append(teamSends, timed(b, h, teamReq))
	}
	b.ReportMetric(p50(sends), "pair-send-p50-ns")
	b.ReportMetric(p50(teamSends), "team-send-p50-ns")
	b.ReportMetric(p50(joins), "join-p50-ns")
	b.ReportMetric(p50(joins)/p50(sends), "join/pair-send")
	b.ReportMetric(p50(joins)/p50(teamSends), "join/team-send")
}
