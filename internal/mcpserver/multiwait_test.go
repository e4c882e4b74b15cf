package mcpserver_test

import (
	"strings"
	"testing"
)

// An agent in two conversations takes from, or waits on, both in one call,
// and the result names the conversation the messages came from.
func TestCheckMessagesAcrossConversations(t *testing.T) {
	h := newHarness(t, nil)
	one, two := h.create(), h.create()
	both := func(extra map[string]any) map[string]any {
		args := one.as("b", extra)
		args["also"] = []any{two.id + ":" + two.tokB}
		return args
	}

	// Waiting already: taken at once, from the conversation that has it.
	h.ok("send_to_partner", two.as("a", map[string]any{"message": "waiting in two"}))
	got := h.ok("check_messages", both(nil))
	if got["conversation_id"] != two.id || len(got["messages"].([]any)) != 1 {
		t.Fatalf("immediate take: %v", got)
	}

	// Nothing waiting: one call waits on both and wakes for either.
	done := make(chan map[string]any, 1)
	go func() { done <- h.ok("check_messages", both(map[string]any{"wait_seconds": 60})) }()
	waitForWaiters(t, h, 1)
	h.ok("send_to_partner", two.as("a", map[string]any{"message": "arrived in two"}))
	got = <-done
	msgs := got["messages"].([]any)
	if got["conversation_id"] != two.id || len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "arrived in two" {
		t.Fatalf("wait on both: %v", got)
	}
	if again := h.ok("check_messages", two.as("b", nil))["messages"].([]any); len(again) != 0 {
		t.Fatalf("the message was delivered twice: %v", again)
	}

	// Refusals name what to fix and take nothing.
	for name, args := range map[string]map[string]any{
		"malformed entry": func() map[string]any { a := one.as("b", nil); a["also"] = []any{"conv_nothex"}; return a }(),
		"wrong token": func() map[string]any {
			a := one.as("b", nil)
			a["also"] = []any{two.id + ":" + strings.Repeat("0", 64)}
			return a
		}(),
		"with peek": both(map[string]any{"peek": true}),
	} {
		if res := h.call("check_messages", args); !res.IsError {
			t.Errorf("%s was accepted: %s", name, text(res))
		}
	}
}
