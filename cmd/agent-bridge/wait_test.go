package main

import (
	"context"

	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// A waiter in one process wakes for a message sent by another.
func TestWaitAcrossProcesses(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	sender := launch(t, home, home, nil, db)
	waiter := launch(t, home, home, nil, db)
	a, b := create(sender)
	checkWaitWakes(t, waiter, sender, a, b)
}

// checkWaitWakes: a check_messages wait of b through waiter receives, in
// each of 3 rounds, exactly the message a sends through sender, and at
// least one round really waited for it.
func checkWaitWakes(t *testing.T, waiter, sender *proc, a, b session) {
	t.Helper()
	woke := 0
	for round := range 3 {
		got := make(chan map[string]any, 1)
		go func() { got <- waiter.ok("check_messages", b.args(map[string]any{"wait_seconds": 60})) }()
		// Not synchronisation (no event crosses the processes): whether the
		// send lands before or during the wait, the message must arrive;
		// waited_seconds says which.
		time.Sleep(200 * time.Millisecond)
		body := fmt.Sprintf("round %d", round)
		sender.ok("send_to_partner", a.args(map[string]any{"message": body}))
		select {
		case out := <-got:
			msgs := out["messages"].([]any)
			if len(msgs) != 1 || msgs[0].(map[string]any)["message"] != body {
				t.Fatalf("round %d: %v", round, out)
			}
			if out["waited_seconds"].(float64) > 0 {
				woke++
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: the wait did not wake for a send through the other process", round)
		}
	}
	if woke == 0 {
		t.Fatal("no round waited: the send always came first")
	}
}

// A client that gives up on a wait sends notifications/cancelled; the
// server stops waiting and takes nothing.
func TestCancelledWaitOverStdio(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	p := launch(t, home, home, nil, db)
	a, b := create(p)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "check_messages"
	req.Params.Arguments = b.args(map[string]any{"wait_seconds": 600})
	if _, err := p.c.CallTool(ctx, req); err == nil {
		t.Fatal("the cancelled call returned a result")
	}
	time.Sleep(100 * time.Millisecond)
	p.ok("send_to_partner", a.args(map[string]any{"message": "after the cancel"}))
	time.Sleep(100 * time.Millisecond)
	if got := bodies(p, b); len(got) != 1 {
		t.Fatalf("a cancelled wait took the message: %q", got)
	}
}

// BenchmarkWakeLatency measures, across two server processes, the time from
// the sender's acknowledgement to the waiter's answer.
func BenchmarkWakeLatency(b *testing.B) {
	home, db := b.TempDir(), filepath.Join(b.TempDir(), "b.db")
	sender := launch(b, home, home, nil, db)
	waiter := launch(b, home, home, nil, db)
	defer sender.close()
	defer waiter.close()
	a, bs := create(sender)
	var lat []time.Duration
	for b.Loop() {
		got := make(chan time.Time, 1)
		go func() {
			waiter.ok("check_messages", bs.args(map[string]any{"wait_seconds": 30}))
			got <- time.Now()
		}()
		time.Sleep(5 * time.Millisecond) // the waiter blocks
		sender.ok("send_to_partner", a.args(map[string]any{"message": "ping"}))
		acked := time.Now()
		lat = append(lat, (<-got).Sub(acked))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}

// BenchmarkIdleWaitCPU reports the CPU time a server process spends while
// one check_messages waits 10 s for a message that never comes.
func BenchmarkIdleWaitCPU(b *testing.B) {
	home, db := b.TempDir(), filepath.Join(b.TempDir(), "b.db")
	p := launch(b, home, home, nil, db)
	defer p.close()
	_, bs := create(p)
	// One 10 s wait whatever b.N is: the metric is CPU per wait, not time.
	before := cpuTicks(b, p.cmd.Process.Pid)
	p.ok("check_messages", bs.args(map[string]any{"wait_seconds": 10}))
	after := cpuTicks(b, p.cmd.Process.Pid)
	b.ReportMetric(float64(after-before)*10, "cpu-ms/10s-wait") // 100 ticks a second
}

// cpuTicks reads a process's user+system CPU time in clock ticks.
func cpuTicks(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skip("no /proc:", err)
	}
	// Fields after the command name (which may hold spaces) are separated
	// by spaces; utime and stime are fields 14 and 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}
