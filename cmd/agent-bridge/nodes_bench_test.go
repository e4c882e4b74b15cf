package main

// BenchmarkHTTPNodes measures what a second PostgreSQL node adds now that
// writers of different conversations no longer share one lock: 50
// concurrent clients, each sending to its own conversation, against one
// SQLite node, one PostgreSQL node and two PostgreSQL nodes sharing one
// database, in the same run. Reports each setup's messages per second and
// the ratios two-nodes/one-node and two-nodes/SQLite.
//
//	AGENT_BRIDGE_TEST_POSTGRES=postgres://... go test -run '^$' -bench HTTPNodes ./cmd/agent-bridge

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// sendAll has each client send perClient messages to its own conversation
// at once and returns the messages stored per second.
func sendAll(b *testing.B, clients []*proc, sessions []session, perClient int) float64 {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < perClient; n++ {
				res, err := clients[i].c.CallTool(ctx, callReq("send_to_partner", sessions[i].args(map[string]any{"message": fmt.Sprintf("m%d, a sentence or two of typical length.", n)})))
				if err != nil || res.IsError {
					errs <- fmt.Errorf("send: %v %v", err, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return float64(len(clients)*perClient) / elapsed.Seconds()
}

// setup dials clients spread over nodes, each with a conversation of its own.
func setup(b *testing.B, nodes []*node, clients int) ([]*proc, []session) {
	ps := make([]*proc, clients)
	ss := make([]session, clients)
	for i := range ps {
		ps[i] = nodes[i%len(nodes)].dial()
		ss[i], _ = create(ps[i])
	}
	return ps, ss
}

func BenchmarkHTTPNodes(b *testing.B) {
	const clients, perClient = 50, 20
	pg := postgresStore(b)
	sqliteClients, sqliteSessions := setup(b, []*node{startNode(b, sqliteStore(b))}, clients)
	pgNodes := []*node{startNode(b, pg), startNode(b, pg)}
	oneClients, oneSessions := setup(b, pgNodes[:1], clients)
	twoClients, twoSessions := setup(b, pgNodes, clients)
	var sqliteRate, oneRate, twoRate float64
	runs := 0
	b.ResetTimer()
	for b.Loop() {
		sqliteRate += sendAll(b, sqliteClients, sqliteSessions, perClient)
		oneRate += sendAll(b, oneClients, oneSessions, perClient)
		twoRate += sendAll(b, twoClients, twoSessions, perClient)
		runs++
	}
	n := float64(runs)
	b.ReportMetric(sqliteRate/n, "sqlite-msgs/s")
	b.ReportMetric(oneRate/n, "pg1-msgs/s")
	b.ReportMetric(twoRate/n, "pg2-msgs/s")
	b.ReportMetric(twoRate/oneRate, "pg2/pg1")
	b.ReportMetric(twoRate/sqliteRate, "pg2/sqlite")
}
