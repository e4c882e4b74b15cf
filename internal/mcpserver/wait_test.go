package mcpserver_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// realTime makes the service use the wall clock: waits block for real.
func realTime(c *bridge.Config) { c.Now = time.Now }

func TestWaitReturnsWhenAMessageArrives(t *testing.T) {
	eachKind(t, testWaitReturnsWhenAMessageArrives)
}

func testWaitReturnsWhenAMessageArrives(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	c := h.create()
	got := make(chan map[string]any)
	go func() { got <- h.ok("check_messages", c.as("b", map[string]any{"wait_seconds": 30})) }()
	waitForWaiters(t, h, 1)
	h.ok("send_to_partner", c.as("a", map[string]any{"message": "wake up"}))
	select {
	case out := <-got:
		msgs := out["messages"].([]any)
		if len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "wake up" {
			t.Fatalf("waiter got %v", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the waiter did not wake")
	}
}

func TestWaitWithMessagesWaitingReturnsAtOnce(t *testing.T) {
	eachKind(t, testWaitWithMessagesWaitingReturnsAtOnce)
}

func testWaitWithMessagesWaitingReturnsAtOnce(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	c := h.create()
	h.ok("send_to_partner", c.as("a", map[string]any{"message": "already here"}))
	out := h.ok("check_messages", c.as("b", map[string]any{"wait_seconds": 600}))
	if len(out["messages"].([]any)) != 1 || out["waited_seconds"] != 0.0 {
		t.Fatalf("%v", out)
	}
}

func TestIdleWaitEndsEmpty(t *testing.T) { eachKind(t, testIdleWaitEndsEmpty) }

func testIdleWaitEndsEmpty(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	c := h.create()
	start := time.Now()
	res := h.call("check_messages", c.as("b", map[string]any{"wait_seconds": 1}))
	took := time.Since(start)
	out := structured(t, res)
	if res.IsError || len(out["messages"].([]any)) != 0 || took < time.Second {
		t.Fatalf("after %s: %v %s", took, out, text(res))
	}
	if !strings.Contains(text(res), "after waiting 1 seconds") {
		t.Fatalf("text: %s", text(res))
	}
}

func TestCancelledWaitTakesNothing(t *testing.T) { eachKind(t, testCancelledWaitTakesNothing) }

func testCancelledWaitTakesNothing(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	c := h.create()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "check_messages"
	req.Params.Arguments = c.as("b", map[string]any{"wait_seconds": 60})
	start := time.Now()
	// The in-process transport may hand back the server's answer or the
	// context's error; either way the wait must end.
	if res, err := h.c.CallTool(ctx, req); err == nil && !res.IsError {
		t.Fatalf("a cancelled call returned a result: %s", text(res))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("cancellation took %s", took)
	}
	waitForWaiters(t, h, 0) // the cancelled wait has ended; no stray waiter is left
	h.ok("send_to_partner", c.as("a", map[string]any{"message": "after cancel"}))
	time.Sleep(50 * time.Millisecond)
	if got := h.ok("check_messages", c.as("b", nil))["messages"].([]any); len(got) != 1 {
		t.Fatalf("the cancelled waiter took the message: %v", got)
	}
}

func TestConversationExpiringDuringWait(t *testing.T) {
	eachKind(t, testConversationExpiringDuringWait)
}

func testConversationExpiringDuringWait(t *testing.T, k kind) {
	h := newHarnessKind(t, k, func(c *bridge.Config) { realTime(c); c.TTL = 1500 * time.Millisecond })
	c := h.create()
	res := h.call("check_messages", c.as("b", map[string]any{"wait_seconds": 30}))
	if !res.IsError || !strings.Contains(text(res), "expired") {
		t.Fatalf("wait past expiry: %s", text(res))
	}
}

// Another process cleans the conversation up while a waiter waits.
func TestConversationRemovedDuringWait(t *testing.T) { eachKind(t, testConversationRemovedDuringWait) }

func testConversationRemovedDuringWait(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	c := h.create()
	done := make(chan *mcp.CallToolResult)
	go func() { done <- h.call("check_messages", c.as("b", map[string]any{"wait_seconds": 30})) }()
	waitForWaiters(t, h, 1)

	other, err := sqlite.Open(context.Background(), h.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var key token.Key
	copy(key[:], "0123456789abcdef0123456789abcdef")
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return time.Now().Add(4 * time.Hour) }
	if n, err := bridge.NewService(other, key, nil, cfg, nil).Cleanup(context.Background()); err != nil || n.Conversations != 1 {
		t.Fatalf("cleanup: %+v %v", n, err)
	}
	select {
	case res := <-done:
		if !res.IsError || !strings.Contains(text(res), "does not exist") {
			t.Fatalf("waiter after cleanup: %s", text(res))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("waiter did not notice the cleanup")
	}
}

func TestManyWaiters(t *testing.T) { eachKind(t, testManyWaiters) }

func testManyWaiters(t *testing.T, k kind) {
	h := newHarnessKind(t, k, realTime)
	const n = 12
	convs := make([]conv, n)
	for i := range convs {
		convs[i] = h.create()
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for _, c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := h.call("check_messages", c.as("b", map[string]any{"wait_seconds": 30}))
			msgs, _ := structured(t, res)["messages"].([]any)
			if res.IsError || len(msgs) != 1 || msgs[0].(map[string]any)["message"] != c.id {
				errs <- c.id + ": " + text(res)
			}
		}()
	}
	waitForWaiters(t, h, n)
	for _, c := range convs {
		h.ok("send_to_partner", c.as("a", map[string]any{"message": c.id}))
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
