package main

// Benchmarks of serve --http against each store: per-call medians of
// send_to_partner and check_messages through a real node, and aggregate
// messages per second with 10 agent pairs spread over two nodes. Nodes run
// with rate limits off (--rate-per-* 0), as in startNode.
//
//	go test -run '^$' -bench HTTP ./cmd/agent-bridge
//	AGENT_BRIDGE_TEST_POSTGRES=postgres://... adds the PostgreSQL runs.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// reportP50 reports the median and 99th percentile of lat in microseconds.
func reportP50(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}

func callReq(name string, args map[string]any) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return req
}

func BenchmarkHTTPSendToPartner(b *testing.B) {
	benchStores(b, func(b *testing.B, st storeKind) {
		p := startNode(b, st).dial()
		a, _ := create(p)
		req := callReq("send_to_partner", a.args(map[string]any{"message": "benchmark message of a typical length, a sentence or two."}))
		ctx := context.Background()
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			res, err := p.c.CallTool(ctx, req)
			lat = append(lat, time.Since(start))
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
		}
		reportP50(b, lat)
	})
}

// BenchmarkHTTPCheckMessages times a check_messages that takes one waiting
// message (sent through the service first, outside the timing).
func BenchmarkHTTPCheckMessages(b *testing.B) {
	benchStores(b, func(b *testing.B, st storeKind) {
		p := startNode(b, st).dial()
		a, bs := create(p)
		send := callReq("send_to_partner", a.args(map[string]any{"message": "new"}))
		check := callReq("check_messages", bs.args(nil))
		ctx := context.Background()
		var lat []time.Duration
		for b.Loop() {
			b.StopTimer()
			if res, err := p.c.CallTool(ctx, send); err != nil || res.IsError {
				b.Fatal(err, res)
			}
			b.StartTimer()
			start := time.Now()
			res, err := p.c.CallTool(ctx, check)
			lat = append(lat, time.Since(start))
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
			if n := len(structuredOf(b, res)["messages"].([]any)); n != 1 {
				b.Fatalf("took %d messages, want 1", n)
			}
		}
		reportP50(b, lat)
	})
}

// BenchmarkHTTPPairs: 10 agent pairs, each sender on one node and its
// receiver (waiting check_messages) on the other; each sender sends b.N
// messages. Reports delivered messages per second.
func BenchmarkHTTPPairs(b *testing.B) {
	benchStores(b, func(b *testing.B, st storeKind) {
		const pairs = 10
		nodes := []*node{startNode(b, st), startNode(b, st)}
		type pair struct {
			sender, receiver *proc
			a, b             session
		}
		ps := make([]pair, pairs)
		for i := range ps {
			s, r := nodes[i%2].dial(), nodes[(i+1)%2].dial()
			a, bs := create(s)
			ps[i] = pair{s, r, a, bs}
		}
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 2*pairs)
		for _, p := range ps {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; i < b.N; i++ {
					res, err := p.sender.c.CallTool(ctx, callReq("send_to_partner", p.a.args(map[string]any{"message": fmt.Sprintf("m%d", i)})))
					if err != nil || res.IsError {
						errs <- fmt.Errorf("send: %v %v", err, res)
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				for got := 0; got < b.N; {
					res, err := p.receiver.c.CallTool(ctx, callReq("check_messages", p.b.args(map[string]any{"wait_seconds": 30})))
					if err != nil || res.IsError {
						errs <- fmt.Errorf("check: %v %v", err, res)
						return
					}
					var out struct {
						Messages []json.RawMessage `json:"messages"`
					}
					raw, _ := json.Marshal(res.StructuredContent)
					if err := json.Unmarshal(raw, &out); err != nil {
						errs <- err
						return
					}
					got += len(out.Messages)
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.ReportMetric(float64(pairs*b.N)/elapsed.Seconds(), "msgs/s")
	})
}
